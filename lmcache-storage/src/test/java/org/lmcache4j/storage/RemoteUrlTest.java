package org.lmcache4j.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Remote URLs: every accepted form, the defaults, and errors that say what was expected. */
class RemoteUrlTest {

    @Test
    void plainUrlTakesTheDefaults() {
        RemoteUrl u = RemoteUrl.parse("redis://cache.internal:6380");
        assertFalse(u.tls());
        assertFalse(u.cluster());
        assertEquals(List.of(new RemoteUrl.Endpoint("cache.internal", 6380)), u.endpoints());
        assertEquals(0, u.database());
        assertEquals(Optional.empty(), u.user());
        assertEquals(Optional.empty(), u.password());
        assertEquals(Long.MAX_VALUE, u.capacityBytes());
        assertEquals(0, u.ttlSeconds());
        assertFalse(u.lz4());
        assertEquals(1 << 20, u.partBytes());
        assertEquals(1000, u.timeoutMillis());
        assertEquals(16, u.poolSize());
        assertEquals(5, u.breakerFailures());
        assertEquals(1000, u.breakerOpenMillis());
        assertEquals("lmc4j", u.keyPrefix());
    }

    @ParameterizedTest
    @CsvSource({
        "redis://h, false, false",
        "valkey://h, false, false",
        "rediss://h, true, false",
        "valkeys://h, true, false",
        "redis-cluster://h, false, true",
        "valkey-cluster://h, false, true",
        "rediss-cluster://h, true, true",
        "VALKEYS-CLUSTER://h, true, true",
    })
    void schemes(String url, boolean tls, boolean cluster) {
        RemoteUrl u = RemoteUrl.parse(url);
        assertEquals(tls, u.tls(), "tls");
        assertEquals(cluster, u.cluster(), "cluster");
        assertEquals(List.of(new RemoteUrl.Endpoint("h", 6379)), u.endpoints());
    }

    @Test
    void databaseCredentialsAndOptions() {
        RemoteUrl u = RemoteUrl.parse("rediss://alice:s%40cret@10.0.0.7:7000/3?capacity=64g&ttlSeconds=3600&compression=lz4"
                + "&partBytes=512k&timeoutMillis=250&poolSize=4&breakerFailures=2&breakerOpenMillis=5000&prefix=kv");
        assertEquals(List.of(new RemoteUrl.Endpoint("10.0.0.7", 7000)), u.endpoints());
        assertEquals(3, u.database());
        assertEquals(Optional.of("alice"), u.user());
        assertEquals(Optional.of("s@cret"), u.password());
        assertEquals(64L << 30, u.capacityBytes());
        assertEquals(3600, u.ttlSeconds());
        assertTrue(u.lz4());
        assertEquals(512 << 10, u.partBytes());
        assertEquals(250, u.timeoutMillis());
        assertEquals(4, u.poolSize());
        assertEquals(2, u.breakerFailures());
        assertEquals(5000, u.breakerOpenMillis());
        assertEquals("kv", u.keyPrefix());
        assertEquals("rediss://alice:***@10.0.0.7:7000/3?capacity=64g&ttlSeconds=3600&compression=lz4&partBytes=512k"
                + "&timeoutMillis=250&poolSize=4&breakerFailures=2&breakerOpenMillis=5000&prefix=kv", u.toString(),
                "the password never shows");
    }

    @Test
    void passwordOnlyForms() {
        assertEquals(Optional.of("pw"), RemoteUrl.parse("redis://:pw@h").password());
        assertEquals(Optional.empty(), RemoteUrl.parse("redis://:pw@h").user());
        assertEquals(Optional.of("pw"), RemoteUrl.parse("redis://pw@h").password(), "a lone user info is the password");
        assertEquals("redis://***@h", RemoteUrl.parse("redis://pw@h").toString());
    }

    @Test
    void clusterSeedsAndIpv6() {
        RemoteUrl u = RemoteUrl.parse("redis-cluster://n1:7000, n2:7001,[::1]:7002,n4");
        assertEquals(List.of(new RemoteUrl.Endpoint("n1", 7000), new RemoteUrl.Endpoint("n2", 7001),
                new RemoteUrl.Endpoint("::1", 7002), new RemoteUrl.Endpoint("n4", 6379)), u.endpoints());
        assertEquals("[::1]:7002", u.endpoints().get(2).toString());
        assertEquals(List.of(new RemoteUrl.Endpoint("::1", 6379)), RemoteUrl.parse("redis://[::1]").endpoints());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "cache:6379                    | no scheme (expected: redis://",
        "http://h                      | scheme 'http' (expected: redis, rediss, valkey, valkeys",
        "redis://                      | no host (expected: host[:port])",
        "redis://h:0                   | port '0' (expected: 1 to 65535)",
        "redis://h:port                | port 'port' (expected: 1 to 65535)",
        "redis://h:70000               | port '70000' (expected: 1 to 65535)",
        "redis://a:1,b:2               | 2 hosts (expected: one host; list several only in a -cluster URL)",
        "redis://::1:6379              | host '::1:6379' (expected: an IPv6 address in brackets",
        "redis://h/x                   | database 'x' (expected: a number",
        "redis-cluster://h/2           | database 2 (expected: 0: a Redis Cluster has only database 0)",
        "redis://h?ttl=5               | option 'ttl' (expected: capacity, ttlSeconds",
        "redis://h?compression=zip     | compression 'zip' (expected: none or lz4)",
        "redis://h?capacity=lots       | capacity 'lots' (expected: bytes, optionally with a k, m, g or t suffix",
        "redis://h?partBytes=1k        | partBytes 1k (expected: 4096 to 536870912 bytes)",
        "redis://h?timeoutMillis=0     | timeoutMillis 0 (expected: 1 to 600000)",
        "redis://h?prefix=a{b}         | prefix 'a{b}' (expected: printable ASCII without spaces or braces)",
        "redis://u:secret@h:x          | remoteUrl 'redis://u:***@h:x': port 'x'",
    })
    void badUrlsSayWhatIsExpected(String url, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RemoteUrl.parse(url));
        assertTrue(e.getMessage().contains(message.strip()), () -> "message '" + e.getMessage() + "' (expected to contain: "
                + message.strip() + ")");
        assertFalse(e.getMessage().contains("secret"), "the password never shows");
    }

    @Test
    void blankUrlIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> RemoteUrl.parse(" "));
        assertThrows(IllegalArgumentException.class, () -> RemoteUrl.parse(null));
    }
}
