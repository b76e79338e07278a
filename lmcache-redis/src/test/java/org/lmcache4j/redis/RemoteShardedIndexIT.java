package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.redis.RemoteEngines.CHUNK;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.redis.RemoteEngines.Prompt;
import org.lmcache4j.testing.RedisServer;

/**
 * A namespace's index on a three-master loopback cluster: its keys spread over all three masters, a
 * 32-chunk lookup costs at most one round trip per master, and killing one master (SIGKILL) costs
 * only the chunks it held (misses), never an exception from the connector. The cluster runs with
 * {@code cluster-require-full-coverage no}, as a cache cluster should (docs/SCALING.md): otherwise
 * the surviving masters refuse every command once they notice the loss.
 */
class RemoteShardedIndexIT {

    private static final String FINGERPRINT = "d4f6e32487754f6c";

    @RegisterExtension
    final LocalRedisCluster cluster = LocalRedisCluster.threeMasters();

    private RemoteTier tier(String namespace) {
        return new RemoteTier(RemoteUrl.parse(cluster.url() + "?partBytes=4k"), namespace, FINGERPRINT, System::nanoTime);
    }

    private static List<ChunkKey> prompt() {
        List<ChunkKey> keys = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            keys.add(key(i));
        }
        return keys;
    }

    @Test
    void oneNamespacesIndexKeysSpreadOverAllThreeMasters() {
        try (RemoteTier t = tier("spread")) {
            assertEquals(RemoteUrl.DEFAULT_CLUSTER_INDEX_SHARDS, t.keys().shards());
            for (ChunkKey k : prompt()) {
                assertTrue(t.put(k, MemorySegment.ofArray(payload(k.hashCode(), 9_000))));
            }
            long chunks = 0;
            for (RedisServer node : cluster.servers().nodes()) {
                List<?> lru = (List<?>) node.call("KEYS", "lmc4j:{" + RemoteKeys.versioned("spread") + ":*}:lru");
                assertTrue(lru.size() >= 3, "node " + node.port() + " holds index shards of the namespace: " + lru);
                for (Object key : lru) {
                    chunks += (Long) node.call("ZCARD", (String) key);
                }
            }
            assertEquals(32, chunks, "every chunk indexed once, over the three masters");
        }
    }

    @Test
    void aLookupOfA32ChunkPromptCostsAtMostOneRoundTripPerMaster() {
        try (RemoteTier t = tier("trips")) {
            for (ChunkKey k : prompt()) {
                assertTrue(t.put(k, MemorySegment.ofArray(payload(k.hashCode(), 5_000))));
            }
            boolean[] all = new boolean[32];
            java.util.Arrays.fill(all, true);
            assertArrayEquals(all, t.containsAll(prompt()), "warm-up lookup (loads the script on every node)");
            for (RedisServer node : cluster.servers().nodes()) {
                node.call("CONFIG", "RESETSTAT");
            }
            // Redis counts each read event on a client socket (total_reads_processed): a pipelined batch is
            // one. Reading the counter costs reads of its own (the test's request, its socket's close), so
            // they are measured first, with no lookup in between.
            long[] idle = readsAround(() -> { });
            long[] lookup = readsAround(() -> assertArrayEquals(all, t.containsAll(prompt())));
            for (int n = 0; n < 3; n++) {
                assertEquals(1, lookup[n] - idle[n], "socket reads (requests) of the lookup on node " + cluster.servers().nodes().get(n).port());
            }
            Set<Integer> shardsAsked = new HashSet<>();
            prompt().forEach(k -> shardsAsked.add(t.keys().shardOf(k)));
            long scripts = 0;
            for (RedisServer node : cluster.servers().nodes()) {
                scripts += node.commandCounts().getOrDefault("zmscore", 0L);
            }
            assertEquals(shardsAsked.size(), scripts, "one script call per shard of the prompt, over all masters");
        }
    }

    /** Read events on each node's client sockets while {@code action} runs, and the reading of the counters. */
    private long[] readsAround(Runnable action) {
        long[] before = new long[cluster.servers().nodes().size()];
        for (int n = 0; n < before.length; n++) {
            before[n] = Long.parseLong(cluster.servers().nodes().get(n).info("stats").get("total_reads_processed"));
        }
        action.run();
        long[] delta = new long[before.length];
        for (int n = 0; n < before.length; n++) {
            delta[n] = Long.parseLong(cluster.servers().nodes().get(n).info("stats").get("total_reads_processed")) - before[n];
        }
        return delta;
    }

    @Test
    void killingOneMasterCostsOnlyItsChunksNeverAnException() {
        LmCacheConfig config = RemoteEngines.config();
        int prompts = 32;
        try (Arena arena = Arena.ofShared()) {
            List<Prompt> ps = new ArrayList<>();
            for (int i = 0; i < prompts; i++) {
                ps.add(Prompt.of(arena, 1000 + i, CHUNK)); // one chunk each: its shard decides where it lives
            }
            try (KvConnector a = RemoteEngines.open(config, cluster.url())) {
                for (Prompt p : ps) {
                    assertEquals(CHUNK, a.store(p.tokens(), p.kv(), p.slots()));
                }
            } // close drains the write-behind queue into the cluster
            RedisServer victim = cluster.servers().nodes().get(1);
            String ns = config.identity(Engines.SMALL).id();
            long lostChunks = 0;
            for (Object key : (List<?>) victim.call("KEYS", "lmc4j:{" + RemoteKeys.versioned(ns) + ":*}:lru")) {
                lostChunks += (Long) victim.call("ZCARD", (String) key);
            }
            assertTrue(lostChunks > 0 && lostChunks < prompts, "the victim holds some chunks, not all: " + lostChunks);
            victim.kill();
            try (KvConnector b = RemoteEngines.open(config, cluster.url())) {
                int hits = 0;
                for (Prompt p : ps) {
                    int found = b.lookup(p.tokens()); // never throws
                    if (found == CHUNK) {
                        assertEquals(CHUNK, p.retrieveAndCheck(arena, b), "a surviving chunk, byte for byte");
                        hits++;
                    } else {
                        assertEquals(0, found);
                    }
                }
                assertEquals(prompts - lostChunks, hits, "every chunk of the surviving masters is a hit, the victim's miss");
                CacheStats s = b.stats();
                assertTrue(RemoteEngines.remote(s).errors() > 0, "the lost shards are counted");
            }
        }
    }

    @Test
    void aChunkReadBackFromAShardedIndexIsByteForByte() {
        try (RemoteTier t = tier("bytes")) {
            ChunkKey k = key(7);
            byte[] data = payload(7, 70_000);
            assertTrue(t.put(k, MemorySegment.ofArray(data)));
            try (ChunkBuffer b = t.get(k).orElseThrow()) {
                assertArrayEquals(data, b.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
            t.clear();
            assertEquals(0, t.stats().chunks());
        }
    }
}
