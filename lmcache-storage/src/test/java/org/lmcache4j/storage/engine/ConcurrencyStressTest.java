package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.PrefixPin;
import org.lmcache4j.testing.SeededKv;

/**
 * Several threads store, look up, pin, retrieve and (through a small budget) evict prompts that share
 * prefixes. Every retrieve is verified byte for byte against the KV the prompt deterministically has;
 * at the end no page is leaked.
 */
class ConcurrencyStressTest {

    private static final int THREADS = 4;
    private static final int OPS_PER_THREAD = 1500;
    private static final int PREFIXES = 6;
    private static final int MAX_TOKENS = 8 * CHUNK;

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    @Test
    void concurrentStoreLookupRetrieveEvictIsAlwaysByteExactAndLeakFree() throws Exception {
        stress(Engines.config().maxLocalCpuBytes(20 * CHUNK_BYTES).build());
    }

    @Test
    void withASmallDiskTierBehindTheCpuTierBothBudgetsHold() throws Exception {
        org.lmcache4j.api.CacheStats last = stress(Engines.config().maxLocalCpuBytes(20 * CHUNK_BYTES)
                .localDisk(dir).maxLocalDiskBytes(30 * CHUNK_BYTES).build());
        assertEquals("disk", last.tiers().get(1).name());
        assertTrue(last.tiers().get(1).chunks() > 0, "chunks were written behind to disk");
    }

    private org.lmcache4j.api.CacheStats stress(org.lmcache4j.api.LmCacheConfig config) throws Exception {
        TieredCacheEngine engine = Engines.open(config);
        int[][] prefixes = new int[PREFIXES][];
        for (int p = 0; p < PREFIXES; p++) {
            prefixes[p] = SeededKv.tokens(100 + p, 3 * CHUNK);
        }
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicLong verifiedTokens = new AtomicLong();
        AtomicLong maxUsed = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (Arena arena = Arena.ofShared()) {
            for (int t = 0; t < THREADS; t++) {
                long seed = 1000 + t;
                pool.execute(() -> {
                    try {
                        runWorker(engine, arena, prefixes, seed, verifiedTokens, maxUsed);
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
            }
            pool.shutdown();
            if (!pool.awaitTermination(120, TimeUnit.SECONDS)) {
                pool.shutdownNow();
                fail("workers did not finish in 120 s");
            }
        }
        if (!failures.isEmpty()) {
            Throwable first = failures.peek();
            throw new AssertionError(failures.size() + " worker(s) failed; first: " + first, first);
        }
        assertTrue(verifiedTokens.get() > 0, "some retrieves must have hit");
        var cpu = engine.stats().tiers().getFirst();
        assertTrue(maxUsed.get() <= cpu.capacityBytes(), "budget exceeded: " + maxUsed.get());
        for (var tier : engine.stats().tiers()) {
            assertTrue(tier.usedBytes() <= tier.capacityBytes(), tier.toString());
        }
        assertTrue(engine.stats().evictedChunks() > 0, "the budget was small enough to evict");

        org.lmcache4j.api.CacheStats last = engine.stats();
        engine.clear();
        assertEquals(0, engine.outstandingPages(), "pages leaked after clear");
        engine.close();
        assertEquals(0, engine.outstandingPages(), "pages leaked after close");
        return last;
    }

    private static void runWorker(TieredCacheEngine engine, Arena arena, int[][] prefixes, long seed,
                                  AtomicLong verifiedTokens, AtomicLong maxUsed) {
        SplittableRandom random = new SplittableRandom(seed);
        HostKvMemory source = SeededKv.contiguous(arena, SMALL, MAX_TOKENS);
        HostKvMemory target = SeededKv.paged(arena, SMALL, MAX_TOKENS / 4, 4);
        int[] sourceSlots = SeededKv.identitySlots(MAX_TOKENS);
        List<PrefixPin> pins = new ArrayList<>();
        for (int op = 0; op < OPS_PER_THREAD; op++) {
            int[] tokens = prompt(prefixes, random);
            int n = tokens.length;
            int[] slots = java.util.Arrays.copyOf(sourceSlots, n);
            SeededKv.fill(source, tokens, slots);
            switch (random.nextInt(6)) {
                case 0, 1 -> engine.store(tokens, source, slots);
                case 2 -> {
                    int hit = engine.lookup(tokens);
                    assertTrue(hit % CHUNK == 0 && hit <= n, "lookup " + hit + " of " + n);
                }
                case 3 -> {
                    pins.add(engine.lookupAndPin(tokens));
                    if (pins.size() > 2) {
                        pins.removeFirst().close();
                    }
                }
                default -> {
                    int[] targetSlots = SeededKv.shuffledSlots(random.nextLong(), n, target.numSlots());
                    int hit = engine.retrieve(tokens, target, targetSlots);
                    assertTrue(hit % CHUNK == 0 && hit <= n, "retrieve " + hit + " of " + n);
                    SeededKv.assertSameKv(source, slots, target, targetSlots, 0, hit);
                    verifiedTokens.addAndGet(hit);
                }
            }
            var tiers = engine.stats().tiers();
            maxUsed.accumulateAndGet(tiers.getFirst().usedBytes(), Math::max);
            for (var tier : tiers) {
                assertTrue(tier.usedBytes() <= tier.capacityBytes(), "budget exceeded: " + tier);
            }
        }
        pins.forEach(PrefixPin::close);
    }

    private static int[] prompt(int[][] prefixes, SplittableRandom random) {
        int[] prefix = prefixes[random.nextInt(prefixes.length)];
        int suffix = random.nextInt(MAX_TOKENS - prefix.length + 1);
        int[] tokens = java.util.Arrays.copyOf(prefix, prefix.length + suffix);
        for (int i = prefix.length; i < tokens.length; i++) {
            tokens[i] = random.nextInt(4); // a tiny vocabulary, so suffixes repeat and hit too
        }
        return tokens;
    }
}
