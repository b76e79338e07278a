package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.LmCacheConfig;
import redis.clients.jedis.UnifiedJedis;

/**
 * A namespace split into index shards ({@code indexShards}) never holds more than its budget: each shard
 * holds at most {@code capacity / shards}, atomically, while two tiers (two engines) put concurrently; a
 * chunk larger than a shard's share is refused; and an engine configured with another shard count is
 * refused the namespace rather than working beside it with budgets and keys of its own.
 */
class RemoteShardBudgetTest {

    private static final String FINGERPRINT = "d4f6e32487754f6c";
    private static final int SHARDS = 4;
    private static final long CAPACITY = 64 << 10;

    @RegisterExtension
    final LocalRedis redis = new LocalRedis();

    private RemoteTier tier(String namespace) {
        RemoteUrl url = RemoteUrl.parse(redis.url() + "?capacity=" + CAPACITY + "&partBytes=4k&indexShards=" + SHARDS);
        return new RemoteTier(url, namespace, FINGERPRINT, System::nanoTime);
    }

    /** Bytes charged in each shard, as its {@code meta} hash says, checked against the sizes it lists. */
    private long[] usedPerShard(RemoteKeys keys) {
        long[] used = new long[keys.shards()];
        for (int s = 0; s < used.length; s++) {
            List<byte[]> k = keys.indexKeys(s);
            byte[] u = redis.raw().hget(k.get(6), "used".getBytes());
            used[s] = u == null ? 0 : Long.parseLong(new String(u));
            long listed = 0;
            for (Map.Entry<byte[], byte[]> e : redis.raw().hgetAll(k.get(2)).entrySet()) {
                listed += Long.parseLong(new String(e.getValue()));
            }
            assertEquals(listed, used[s], "shard " + s + ": used bytes are the sum of its chunks' sizes");
        }
        return used;
    }

    @Test
    void twoTiersPuttingAtOnceNeverExceedTheBudgetInAnyShardOrInTotal() throws Exception {
        try (RemoteTier a = tier("budget"); RemoteTier b = tier("budget")) {
            assertEquals(SHARDS, a.keys().shards());
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong worstTotal = new AtomicLong();
            AtomicLong stored = new AtomicLong();
            List<Thread> writers = new ArrayList<>();
            for (RemoteTier t : List.of(a, b)) {
                for (int w = 0; w < 2; w++) {
                    int offset = writers.size() * 1000;
                    writers.add(Thread.ofPlatform().start(() -> {
                        for (int i = 0; i < 150; i++) {
                            int size = 1024 + (i * 977 + offset) % 5000;
                            if (t.put(key(offset + i), MemorySegment.ofArray(payload(offset + i, size)))) {
                                stored.incrementAndGet();
                            }
                        }
                    }));
                }
            }
            Thread watcher = Thread.ofPlatform().start(() -> {
                try (UnifiedJedis own = RedisLink.open(RemoteUrl.parse(redis.url()))) {
                    while (!done.get()) {
                        long total = 0;
                        for (int s = 0; s < SHARDS; s++) {
                            byte[] u = own.hget(a.keys().indexKeys(s).get(6), "used".getBytes());
                            total += u == null ? 0 : Long.parseLong(new String(u));
                        }
                        worstTotal.accumulateAndGet(total, Math::max);
                    }
                }
            });
            for (Thread t : writers) {
                t.join();
            }
            done.set(true);
            watcher.join();
            assertTrue(stored.get() > 100, "most puts were stored (evicting others): " + stored.get());
            assertTrue(worstTotal.get() <= CAPACITY, "the most the namespace held at any reading: " + worstTotal.get());
            long total = 0;
            for (long used : usedPerShard(a.keys())) {
                assertTrue(used <= CAPACITY / SHARDS, "a shard holds at most its share: " + used);
                assertTrue(used > CAPACITY / SHARDS / 2, "every shard was filled, evicting: " + used);
                total += used;
            }
            assertEquals(total, a.stats().usedBytes(), "stats sum the shards");
            assertEquals(CAPACITY, a.stats().capacityBytes(), "stats report the namespace's budget");
        }
    }

    @Test
    void aChunkLargerThanAShardsShareIsRefused() {
        try (RemoteTier t = tier("share")) {
            assertFalse(t.put(key(1), MemorySegment.ofArray(payload(1, (int) (CAPACITY / SHARDS) + 1))));
            assertTrue(t.put(key(2), MemorySegment.ofArray(payload(2, (int) (CAPACITY / SHARDS)))));
            assertTrue(t.contains(key(2)));
        }
    }

    @Test
    void anEngineWithAnotherShardCountIsRefusedTheNamespace() {
        LmCacheConfig config = RemoteEngines.config();
        try (Arena arena = Arena.ofShared()) {
            RemoteEngines.Prompt p = RemoteEngines.Prompt.of(arena, 1, 4 * RemoteEngines.CHUNK);
            try (KvConnector a = RemoteEngines.open(config, redis.url() + "?indexShards=4")) {
                assertEquals(p.tokens().length, a.store(p.tokens(), p.kv(), p.slots()));
            }
            try (KvConnector b = RemoteEngines.open(config, redis.url() + "?indexShards=2")) {
                assertEquals(0, b.lookup(p.tokens()), "refused: nothing served");
                assertTrue(b.stats().tiers().stream().anyMatch(s -> s.name().equals(RemoteTier.NAME) && !s.healthy()));
            }
            try (KvConnector c = RemoteEngines.open(config, redis.url() + "?indexShards=4")) {
                assertEquals(p.tokens().length, p.retrieveAndCheck(arena, c), "the same shard count shares");
            }
        }
    }
}
