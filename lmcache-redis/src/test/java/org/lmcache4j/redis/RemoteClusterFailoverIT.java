package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.assertChunkBytes;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.testing.RedisServer;

/**
 * A failover on a three-master cluster with a replica each: a master dies (SIGKILL) and its replica
 * takes its slots over ({@code CLUSTER FAILOVER TAKEOVER}). The tier only ever looks chunks up, so
 * nothing but its own lookups can tell it the slots moved: it must learn the new slot map itself and
 * find the dead master's chunks, byte for byte, on the promoted replica.
 */
class RemoteClusterFailoverIT {

    private static final int CHUNKS = 32;
    private static final long RECOVERY_BOUND_MILLIS = 20_000;

    @RegisterExtension
    final LocalRedisCluster cluster = LocalRedisCluster.threeMastersWithReplicas();

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void afterAFailoverLookupsAndReadsFindTheChunksOnThePromotedReplica() throws Exception {
        try (RemoteTier t = new RemoteTier(RemoteUrl.parse(cluster.url() + "?partBytes=4k&timeoutMillis=500&breakerOpenMillis=200"),
                "failover", RemoteTierContractTest.FINGERPRINT, System::nanoTime)) {
            List<ChunkKey> keys = new ArrayList<>();
            for (int i = 0; i < CHUNKS; i++) {
                keys.add(key(i));
                assertTrue(t.put(key(i), MemorySegment.ofArray(payload(i, 9_000))));
            }
            for (RedisServer m : cluster.servers().masters()) {
                assertEquals(1L, m.call("WAIT", "1", "5000"), "the replica of " + m.port() + " has every write");
            }
            assertEquals(CHUNKS, hits(t.containsAll(keys)), "every chunk before the failover");

            RedisServer victim = cluster.servers().masters().getFirst();
            RedisServer heir = cluster.servers().replicaOf(victim);
            victim.kill();
            heir.call("CLUSTER", "FAILOVER", "TAKEOVER");
            long deadline = System.currentTimeMillis() + RECOVERY_BOUND_MILLIS;
            while (!"master".equals(((List<?>) heir.call("ROLE")).getFirst()) && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            int found = 0;
            int lookups = 0;
            while (found < CHUNKS && System.currentTimeMillis() < deadline) {
                found = hits(t.containsAll(keys)); // never throws: the other masters answer
                lookups++;
                Thread.sleep(50);
            }
            assertEquals(CHUNKS, found, "chunks found by lookups within " + RECOVERY_BOUND_MILLIS + " ms of the failover ("
                    + lookups + " lookups)");
            for (int i = 0; i < CHUNKS; i++) {
                try (ChunkBuffer b = t.get(keys.get(i)).orElseThrow()) {
                    assertChunkBytes(payload(i, 9_000), b, "chunk " + i + " after the failover");
                }
            }
        }
    }

    private static int hits(boolean[] found) {
        int n = 0;
        for (boolean f : found) {
            n += f ? 1 : 0;
        }
        return n;
    }
}
