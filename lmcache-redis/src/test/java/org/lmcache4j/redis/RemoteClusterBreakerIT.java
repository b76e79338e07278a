package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.testing.RedisServer;

/**
 * What a lookup on a three-master cluster tells the circuit breaker: every shard failed is an outage (a
 * failure); some failed is neither a failure (one dead master among three must not open the circuit for
 * the others' chunks) nor a success (which would reset the failures the dead master's calls count);
 * none failed is a success.
 */
class RemoteClusterBreakerIT {

    @RegisterExtension
    final LocalRedisCluster cluster = LocalRedisCluster.threeMasters();

    private RemoteTier tier(int breakerFailures) {
        return new RemoteTier(RemoteUrl.parse(cluster.url() + "?partBytes=4k&timeoutMillis=500&breakerFailures=" + breakerFailures
                + "&breakerOpenMillis=60000"), "breaker", RemoteTierContractTest.FINGERPRINT, System::nanoTime);
    }

    private static List<ChunkKey> prompt(RemoteTier t) {
        List<ChunkKey> keys = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            keys.add(key(i));
            assertTrue(t.put(key(i), MemorySegment.ofArray(payload(i, 2_000))));
        }
        return keys;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aLookupWhoseEveryShardFailedIsAFailure() {
        try (RemoteTier t = tier(2)) {
            List<ChunkKey> keys = prompt(t);
            cluster.servers().nodes().forEach(RedisServer::kill);
            assertThrows(UncheckedIOException.class, () -> t.containsAll(keys), "no node answered: an outage");
            assertThrows(UncheckedIOException.class, () -> t.containsAll(keys));
            assertEquals(RemoteCircuitBreaker.State.OPEN, t.link().breaker().state(), "two failed lookups open it");
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aLookupWhereSomeShardsFailedCountsNeitherWay() {
        try (RemoteTier t = tier(2)) {
            List<ChunkKey> keys = prompt(t);
            cluster.servers().nodes().get(1).kill();
            t.link().breaker().failed(); // say a put to the dead master failed
            for (int i = 0; i < 10; i++) {
                boolean[] found = t.containsAll(keys);
                int hits = 0;
                for (boolean f : found) {
                    hits += f ? 1 : 0;
                }
                assertTrue(hits > 0 && hits < keys.size(), "the surviving masters' chunks are hits, the dead one's misses: " + hits);
                assertEquals(RemoteCircuitBreaker.State.CLOSED, t.link().breaker().state(), "one dead master of three is no outage");
                assertEquals(1, t.link().breaker().consecutiveFailures(), "and no proof the remote works either");
            }
            assertTrue(t.shardFailures() > 0, "the dead master's shards are counted");
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aLookupWhereEveryShardAnsweredIsASuccess() {
        try (RemoteTier t = tier(2)) {
            List<ChunkKey> keys = prompt(t);
            t.link().breaker().failed();
            boolean[] all = new boolean[keys.size()];
            java.util.Arrays.fill(all, true);
            org.junit.jupiter.api.Assertions.assertArrayEquals(all, t.containsAll(keys));
            assertEquals(0, t.link().breaker().consecutiveFailures());
        }
    }
}
