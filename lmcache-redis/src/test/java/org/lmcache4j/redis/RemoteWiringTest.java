package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.redis.RemoteEngines.Prompt;
import org.lmcache4j.testing.RedisServer;

/** remoteUrl opens the remote tier; an engine's lookup of a 32-chunk prompt is one command to Redis. */
class RemoteWiringTest {

    @RegisterExtension
    static final LocalRedis redis = new LocalRedis();

    @Test
    void remoteUrlOpensTheRemoteTierAndALookupIsOneCommand() {
        LmCacheConfig config = RemoteEngines.config().toBuilder().remoteUrl(redis.url()).build();
        int n = 32 * RemoteEngines.CHUNK;
        try (Arena arena = Arena.ofShared()) {
            Prompt p = Prompt.of(arena, 9, n);
            try (KvConnector a = Engines.open(config)) {
                assertEquals(List.of("cpu", "remote"), a.stats().tiers().stream().map(t -> t.name()).toList());
                assertEquals(n, a.store(p.tokens(), p.kv(), p.slots()));
            }
            try (KvConnector b = Engines.open(config)) {
                b.lookup(org.lmcache4j.testing.SeededKv.tokens(99, RemoteEngines.CHUNK)); // warm the pool: a prompt that reaches Redis
                try (RedisServer.Monitor monitor = redis.server().monitor()) {
                    assertEquals(n, b.lookup(p.tokens()));
                    assertEquals(List.of("zmscore"), monitor.clientCommands(), "a 32-chunk lookup");
                    assertEquals(n, p.retrieveAndCheck(arena, b));
                    List<String> sent = monitor.clientCommands();
                    assertEquals(1, Collections.frequency(sent, "zmscore"), "one batch");
                    assertEquals(32, Collections.frequency(sent, "evalsha"), "then one touch per chunk");
                    assertTrue(sent.contains("get"));
                    assertEquals(n, b.lookup(p.tokens()));
                    assertEquals(List.of(), monitor.clientCommands(), "a prompt the cpu tier holds never reaches Redis");
                }
            }
        }
    }

    @Test
    void aMalformedRemoteUrlFailsAtOpen() {
        LmCacheConfig config = RemoteEngines.config().toBuilder().remoteUrl("redis://h:port").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Engines.open(config));
        assertTrue(e.getMessage().contains("port 'port'"), e.getMessage());
    }
}
