package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

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
    void aPlusIsAPlusNotASpace() {
        // regression: the form decoder turned '+' into ' ', so a password with '+' in it failed to authenticate
        assertEquals(Optional.of("a+b c"), RemoteUrl.parse("redis://u+1:a+b%20c@h").password());
        assertEquals(Optional.of("u+1"), RemoteUrl.parse("redis://u+1:a+b%20c@h").user());
        assertEquals("k+v", RemoteUrl.parse("redis://h?prefix=k+v").keyPrefix());
    }

    @Test
    void emptyQueryPairsAreSkippedAsInEveryTierUrl() {
        // the options are read by the tier toolkit's UrlOptions: a stray '&' is no option (it used to be refused
        // here, but not at the end of the query nor in the other tiers' URLs)
        RemoteUrl u = RemoteUrl.parse("redis://h?&capacity=1g&&ttlSeconds=5&");
        assertEquals(1L << 30, u.capacityBytes());
        assertEquals(5, u.ttlSeconds());
    }

    @Test
    void anUnknownOptionListsTheKnownOnesInTheirDocumentedOrder() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RemoteUrl.parse("redis://h?ttl=5"));
        assertEquals("remoteUrl 'redis://h?ttl=***': option 'ttl' (expected: capacity, ttlSeconds, compression, partBytes,"
                + " timeoutMillis, poolSize, breakerFailures, breakerOpenMillis, prefix, codec or indexShards)", e.getMessage());
    }

    @Test
    void aCodecIsNamedRawByDefaultAndRefusedWithLz4Parts() {
        assertEquals("raw", RemoteUrl.parse("redis://h").codec());
        RemoteUrl u = RemoteUrl.parse("redis://h?codec=shuffle+zstd&compression=none");
        assertEquals("shuffle+zstd", u.codec(), "a '+' is kept");
        assertEquals("redis://h?codec=shuffle+zstd&compression=none", u.toString(), "the codec is shown in logs");
        assertTrue(RemoteUrl.parse("redis://h?codec=raw&compression=lz4").lz4(), "raw is no codec: LZ4 parts as before");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RemoteUrl.parse("redis://h?compression=lz4&codec=shuffle+lz4"));
        assertTrue(e.getMessage().startsWith("remoteUrl 'redis://h?compression=lz4&codec=shuffle+lz4': codec 'shuffle+lz4' with"
                + " compression 'lz4' (expected: compression=none with a codec"), e.getMessage());
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
        "redis://u:sec/ret@h           | remoteUrl 'redis://***@h': an '@' after a '/' or '?' (expected: user:password@host",
        "redis://h?prefix=a@b          | remoteUrl 'redis://***@b': an '@' after a '/' or '?'",
        "redis://u:sec%zzret@h         | remoteUrl 'redis://u:***@h': bad percent-encoding in the user info (expected: %",
        "redis://h?ttl%=5              | bad percent-encoding in an option name (expected: %",
        "redis://h?capacity=1%         | bad percent-encoding in the value of option 'capacity' (expected: %",
        "redis://h?secret              | remoteUrl 'redis://h?***': an option without '=' (expected: name=value)",
        "redis://h?ttl=5&auth=1        | remoteUrl 'redis://h?ttl=***&auth=***': option 'ttl'",
    })
    void badUrlsSayWhatIsExpected(String url, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RemoteUrl.parse(url));
        assertTrue(e.getMessage().contains(message.strip()), () -> "message '" + e.getMessage() + "' (expected to contain: "
                + message.strip() + ")");
        assertFalse(e.getMessage().contains("secret"), "the password never shows");
    }

    /** A password the malformed URLs below carry, whole or in parts. */
    private static final String SECRET = "Xq7Zk9Wv";

    /** Fails when {@code text} shows any two consecutive characters of {@link #SECRET}. */
    private static void assertNoPartOfTheSecret(String text, String url) {
        for (int i = 0; i + 2 <= SECRET.length(); i++) {
            String part = SECRET.substring(i, i + 2);
            assertFalse(text.contains(part), () -> "'" + part + "' of the password shows in: " + text + " (url: " + url + ")");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "redis//user:Xq7Zk9Wv@host",
        "user:Xq7Zk9Wv@host:6379",
        "redis:/user:Xq7Zk9Wv@host",
        "http://user:Xq7Zk9Wv@host",
        "redis://user:Xq7Z%k9Wv@host",
        "redis://user:Xq7Zk9Wv%@host",
        "redis://user:Xq7Zk9Wv%zz@host",
        "redis://Xq7Zk9Wv%@host",
        "redis://:Xq7Z%k9Wv@host",
        "redis://user%:Xq7Zk9Wv@host",
        "rediss://user:Xq7Z/k9Wv@host",
        "rediss://user:Xq7Z?k9Wv@host",
        "redis://user:Xq7Z/k9Wv@host:6379/0",
        "redis://Xq7Z/k9Wv@host",
        "redis:///user:Xq7Zk9Wv@host",
        "redis://user:Xq7Z#k9Wv@host:x",
        "redis://user:Xq7Z@k9Wv@host:x",
        "redis://user:Xq7Z&k9Wv@host:x",
        "redis://user:Xq7Z k9Wv@host:x",
        "redis://user:Xq7Zk9Wv@",
        "redis://user:Xq7Zk9Wv@h:0",
        "redis://user:Xq7Zk9Wv@h/x",
        "redis://user:Xq7Zk9Wv@a,b",
        "redis-cluster://user:Xq7Zk9Wv@h/2",
        "redis-cluster://user:Xq7Zk9Wv@h1:1,h2:x",
        "redis://user:Xq7Zk9Wv@[::1",
        "redis://user:Xq7Zk9Wv@::1:6379",
        "redis://user:Xq7%5Ak9Wv@h:x",
        "  redis://u:Xq7Zk9Wv@h:x  ",
        "REDISS://u:Xq7Zk9Wv@h?prefix=a{b}",
        "valkeys://u:Xq7Zk9Wv@h:99999",
        "redis://u:Xq7Zk9Wv@h?ttlSeconds=-1",
        "redis://u:Xq7Zk9Wv@h?timeoutMillis=abc",
        "redis://h?password=Xq7Zk9Wv",
        "redis://h?capacity=1g&password=Xq7Zk9Wv&compression=zip",
        "redis://h?password=Xq7Z%k9Wv",
        "redis://h?Xq7Zk9Wv",
        "redis://h?=Xq7Zk9Wv",
        "redis://h?auth=Xq7Zk9Wv&ttl=5",
        "redis://h?prefix=p&pass%zz=Xq7Zk9Wv",
        "rediss://default:Xq7Zk9Wv@h:6380?password=Xq7Zk9Wv",
        "redis://u:Xq7Zk9Wv@h?password",
    })
    void noMessageShowsAnyPartOfAPassword(String url) {
        // regression: bad percent-encoding, a '/' or '?' in a password, a missing scheme and query values all
        // used to put (part of) the password in the message
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RemoteUrl.parse(url));
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertNoPartOfTheSecret(t.toString(), url);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "redis://u:Xq7Zk9Wv@h                    | redis://u:***@h",
        "redis://Xq7Zk9Wv@h                      | redis://***@h",
        "rediss://:Xq7Z%2Fk9Wv@h:6380/2?prefix=p | rediss://:***@h:6380/2?prefix=p",
        "redis-cluster://u:Xq7Z%40k9Wv@n1:1,n2:2 | redis-cluster://u:***@n1:1,n2:2",
        "redis://u:Xq7Z@k9Wv@h                   | redis://u:***@h",
        "redis://u:Xq7Z:k9Wv@h                   | redis://u:***@h",
    })
    void toStringNeverShowsThePassword(String url, String shown) {
        assertEquals(shown, RemoteUrl.parse(url).toString());
    }

    @Test
    void blankUrlIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> RemoteUrl.parse(" "));
        assertThrows(IllegalArgumentException.class, () -> RemoteUrl.parse(null));
    }
}
