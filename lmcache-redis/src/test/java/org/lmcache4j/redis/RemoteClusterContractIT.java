package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.testing.RedisClusterServers;
import org.lmcache4j.testing.RedisServer;

/**
 * The remote tier on a three-node Redis Cluster ({@code redis-cluster://} URL) passes the StorageTier
 * contract (its small budgets keep each namespace in one index shard); chunks spread over the nodes, and
 * a lookup is one script call per index shard involved (RemoteShardedIndexIT: one round trip per node).
 */
class RemoteClusterContractIT extends RemoteTierContractTest {

    static RedisClusterServers cluster;

    @BeforeAll
    static void startCluster() {
        cluster = RedisClusterServers.start(3);
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    @Override
    protected StorageTier newTier(long capacityBytes) {
        RemoteUrl url = RemoteUrl.parse(cluster.url() + "?capacity=" + capacityBytes + "&partBytes=" + PART_BYTES);
        return new RemoteTier(url, UUID.randomUUID().toString().substring(0, 8), FINGERPRINT, System::nanoTime);
    }

    @Test
    void chunksSpreadOverTheNodesAndALookupIsOneCommandPerShard() {
        RemoteTier t = (RemoteTier) openTier(Long.MAX_VALUE);
        List<ChunkKey> prompt = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            prompt.add(key(i));
            putOrFail(t, key(i), payload(i, 40_000));
        }
        for (RedisServer node : cluster.nodes()) {
            assertTrue((Long) node.call("DBSIZE") > 0, "node " + node.port() + " holds parts");
        }
        List<RedisServer.Monitor> monitors = cluster.nodes().stream().map(RedisServer::monitor).toList();
        try {
            boolean[] found = t.containsAll(prompt);
            for (boolean f : found) {
                assertTrue(f);
            }
            List<String> sent = new ArrayList<>();
            monitors.forEach(m -> sent.addAll(m.clientCommands()));
            long shards = prompt.stream().mapToInt(t.keys()::shardOf).distinct().count();
            assertEquals(java.util.Collections.nCopies((int) shards, "zmscore"), sent,
                    "commands sent to all nodes together for a 32-chunk lookup");
        } finally {
            monitors.forEach(RedisServer.Monitor::close);
        }
        try (ChunkBuffer b = t.get(key(31)).orElseThrow()) {
            assertChunkBytes(payload(31, 40_000), b, "a chunk read back from the cluster");
        }
        assertTrue(t.put(key(99), MemorySegment.ofArray(payload(99, 10))));
        t.clear();
        assertEquals(0, t.stats().chunks());
    }
}
