package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.redis.RemoteEngines.CHUNK;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.redis.RemoteEngines.Prompt;

/**
 * Engines with a remote tier on a real redis-server: a fresh engine retrieves what another stored, two
 * engines share one URL, and an engine whose Redis dies keeps serving from its cpu tier, counts the
 * failures, never throws, and uses Redis again once it is back.
 */
class RemoteEngineTest {

    @RegisterExtension
    final LocalRedis redis = new LocalRedis();

    @Test
    void aFreshEngineRetrievesWhatAnotherStoredByteForByte() {
        LmCacheConfig config = RemoteEngines.config();
        int n = 6 * CHUNK;
        try (Arena arena = Arena.ofShared()) {
            Prompt p = Prompt.of(arena, 1, n);
            try (KvConnector a = RemoteEngines.open(config, redis.url())) {
                assertEquals(n, a.store(p.tokens(), p.kv(), p.slots()));
            } // close drains the write-behind queue into Redis
            try (KvConnector b = RemoteEngines.open(config, redis.url())) {
                assertEquals(n, b.lookup(p.tokens()));
                assertEquals(n, p.retrieveAndCheck(arena, b));
                CacheStats s = b.stats();
                assertEquals(6, s.promotedChunks(), "remote hits were promoted into the cpu tier");
                assertEquals(6, RemoteEngines.remote(s).chunks());
                assertEquals(0, s.tierErrors());
                assertTrue(s.healthy());
            }
        }
    }

    @Test
    void twoEnginesShareOneRedisUrl() {
        LmCacheConfig config = RemoteEngines.config();
        int n = 4 * CHUNK;
        try (Arena arena = Arena.ofShared();
             KvConnector a = RemoteEngines.open(config, redis.url());
             KvConnector b = RemoteEngines.open(config, redis.url())) {
            Prompt pa = Prompt.of(arena, 10, n);
            Prompt pb = Prompt.of(arena, 20, n);
            assertEquals(n, a.store(pa.tokens(), pa.kv(), pa.slots()));
            assertEquals(n, b.store(pb.tokens(), pb.kv(), pb.slots()));
            RemoteEngines.awaitWriteBehind(a);
            RemoteEngines.awaitWriteBehind(b);
            assertEquals(n, pa.retrieveAndCheck(arena, b), "b retrieves what a stored");
            assertEquals(n, pb.retrieveAndCheck(arena, a), "a retrieves what b stored");
            assertEquals(8, RemoteEngines.remote(a.stats()).chunks(), "one namespace, one index");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void redisKilledMidRunCostsOnlyRemoteHitsAndComesBack() {
        LmCacheConfig config = RemoteEngines.config();
        String url = redis.url() + "?timeoutMillis=300&breakerFailures=3&breakerOpenMillis=200";
        int n = 4 * CHUNK;
        try (Arena arena = Arena.ofShared();
             KvConnector engine = RemoteEngines.open(config, url)) {
            Prompt inCpu = Prompt.of(arena, 1, n);
            assertEquals(n, engine.store(inCpu.tokens(), inCpu.kv(), inCpu.slots()));
            RemoteEngines.awaitWriteBehind(engine);
            Prompt onlyRemote = Prompt.of(arena, 2, n);
            try (KvConnector other = RemoteEngines.open(config, redis.url())) {
                assertEquals(n, other.store(onlyRemote.tokens(), onlyRemote.kv(), onlyRemote.slots()));
            }

            redis.server().kill();
            long start = System.nanoTime();
            assertEquals(n, engine.lookup(inCpu.tokens()), "the cpu tier still answers");
            assertEquals(n, inCpu.retrieveAndCheck(arena, engine), "and serves byte for byte");
            assertEquals(0, engine.lookup(onlyRemote.tokens()), "a chunk only Redis had is a miss, not an exception");
            assertEquals(0, onlyRemote.retrieveAndCheck(arena, engine));
            Prompt later = Prompt.of(arena, 3, n);
            assertEquals(n, engine.store(later.tokens(), later.kv(), later.slots()), "stores still land in the cpu tier");
            for (int i = 0; i < 20; i++) {
                engine.lookup(onlyRemote.tokens()); // a busy engine: the circuit opens, these fail fast
            }
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(tookMillis < 5_000, "calls while Redis is down took " + tookMillis + " ms in all");
            CacheStats down = engine.stats();
            assertTrue(down.tierErrors() > 0, "remote failures are counted: " + down);
            assertFalse(RemoteEngines.remote(down).healthy(), "the remote tier reports unhealthy");

            redis.server().restart(); // same port, empty
            Prompt afterRestart = Prompt.of(arena, 4, n);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int remoteChunks = 0;
            while (remoteChunks < 4 && System.nanoTime() < deadline) {
                engine.clear(); // so the store is new and written behind again
                engine.store(afterRestart.tokens(), afterRestart.kv(), afterRestart.slots());
                RemoteEngines.awaitWriteBehind(engine);
                TierStats remote = RemoteEngines.remote(engine.stats());
                // a usage the server did not answer in time is the last one read (from before the kill), unhealthy
                remoteChunks = remote.healthy() ? (int) remote.chunks() : 0;
            }
            assertEquals(4, remoteChunks, "the engine writes to Redis again after it returned");
            // Health follows the latest remote call; on a loaded machine a write-behind may still have met the
            // half-open breaker, so ask the tier again (lookupByTier calls it) until a call succeeds.
            boolean healthy = false;
            while (!healthy && System.nanoTime() < deadline + TimeUnit.SECONDS.toNanos(10)) {
                engine.lookupByTier(afterRestart.tokens());
                healthy = RemoteEngines.remote(engine.stats()).healthy();
            }
            assertTrue(healthy, "the remote tier is healthy again");
            // A fresh engine's first calls load the Lua scripts and open connections under a 300 ms timeout; on a
            // loaded machine one may time out (a miss, by design), so give it a few tries.
            int got = 0;
            for (int attempt = 0; attempt < 5 && got != n; attempt++) {
                try (KvConnector fresh = RemoteEngines.open(config, redis.url())) {
                    got = afterRestart.retrieveAndCheck(arena, fresh);
                }
            }
            assertEquals(n, got, "a fresh engine gets it from Redis");
        }
    }
}
