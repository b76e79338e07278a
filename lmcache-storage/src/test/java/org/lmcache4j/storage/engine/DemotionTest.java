package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.storage.hash.ChunkHasher;
import org.lmcache4j.storage.hash.PromptChunks;
import org.lmcache4j.testing.FaultyTier;
import org.lmcache4j.testing.SeededKv;

/**
 * Chunks the cpu tier evicts are demoted to the slower tiers behind the engine's back, through the
 * bounded write-behind queues: a store never waits for a slower tier's put, and a full queue drops.
 */
class DemotionTest {

    private static final ChunkHasher HASHER = ChunkHasher.create(HashAlgorithm.SHA_256, Engines.config().build().namespace(SMALL));

    private static ChunkKey firstKey(int[] tokens) {
        return new PromptChunks(HASHER, tokens, CHUNK, false).key(0);
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        for (int i = 0; i < 1000 && !condition.getAsBoolean(); i++) {
            Thread.sleep(10);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    /** Regression: the eviction inside a store put the victim into every slower tier on the storing thread. */
    @Test
    void aStoreWhoseEvictionDemotesIntoASlowTierDoesNotWaitForIt() throws Exception {
        CpuTier below = new CpuTier(16 * CHUNK_BYTES, CHUNK_BYTES);
        FaultyTier faulty = new FaultyTier(below);
        KvEventsTest.Recorder recorder = new KvEventsTest.Recorder();
        TieredCacheEngine engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(3 * CHUNK_BYTES).build(), SMALL,
                System::nanoTime, UnaryOperator.identity(), List.of(new SlowTier(faulty, 0, 500)));
        try (Arena arena = Arena.ofShared()) {
            engine.subscribe(recorder);
            faulty.failPuts(true);
            int[] a = Engines.storePrompt(engine, arena, 1, 1);
            await(() -> engine.stats().tiers().get(1).errors() > 0, "a's write-behind failed");
            faulty.failPuts(false);
            Engines.storePrompt(engine, arena, 2, 1);
            await(() -> recorder.lines().contains("STORED slow -1--1"), "b written behind");
            Engines.storePrompt(engine, arena, 3, 1); // the cpu tier is full now; a is the least recently used

            int[] d = SeededKv.tokens(4, CHUNK);
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, CHUNK);
            int[] slots = SeededKv.identitySlots(CHUNK);
            SeededKv.fill(kv, d, slots);
            long startNanos = System.nanoTime();
            int stored = engine.store(d, kv, slots); // evicts a, which the slow tier lacks: a demotion
            long storeMillis = (System.nanoTime() - startNanos) / 1_000_000;
            assertEquals(CHUNK, stored);
            assertTrue(storeMillis < 50, "the store took " + storeMillis + " ms (the slow tier takes 500 ms per put)");

            await(() -> below.contains(firstKey(a)), "a demoted to the slow tier");
            assertEquals(1, engine.stats().demotedChunks());
            assertEquals(CHUNK, engine.lookup(a), "the demoted chunk hits");
            List<String> lines = recorder.lines();
            int evicted = lines.indexOf("EVICTED cpu -1--1");
            assertTrue(evicted >= 0 && lines.subList(evicted, lines.size()).contains("STORED slow -1--1"), lines.toString());
        } finally {
            engine.close();
        }
        assertEquals(0, engine.outstandingPages(), "no page left held after close");
    }

    /**
     * A chunk read from a tier whose chunks are lossy (int8, fp8) is never written into another tier when the cpu
     * tier evicts it: there it would be served as exact KV.
     */
    @Test
    void aChunkPromotedFromALossyTierIsNeverDemotedIntoAnotherTier() throws Exception {
        FaultyTier lossy = new FaultyTier(new CpuTier(16 * CHUNK_BYTES, CHUNK_BYTES)).servesLossy(true);
        CpuTier exact = new CpuTier(16 * CHUNK_BYTES, CHUNK_BYTES);
        TieredCacheEngine engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(3 * CHUNK_BYTES).build(), SMALL,
                System::nanoTime, UnaryOperator.identity(), List.of(lossy, exact));
        try (Arena arena = Arena.ofShared()) {
            int[] a = Engines.storePrompt(engine, arena, 1, 1);
            ChunkKey key = firstKey(a);
            await(() -> lossy.contains(key) && exact.contains(key), "a written behind to both tiers");
            exact.remove(key); // the exact tier lost it without telling (as a remote server's own eviction)
            for (int seed = 2; seed <= 4; seed++) {
                Engines.storePrompt(engine, arena, seed, 1); // a leaves the cpu tier: both tiers were marked, nothing demoted
            }
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, CHUNK);
            assertEquals(CHUNK, engine.retrieve(a, kv, SeededKv.identitySlots(CHUNK)), "a read from the lossy tier, promoted");
            long demotedBefore = engine.stats().demotedChunks();
            for (int seed = 5; seed <= 7; seed++) {
                Engines.storePrompt(engine, arena, seed, 1); // a leaves the cpu tier again
            }
            Thread.sleep(200); // write-behind is asynchronous: give a wrong demotion the time to land
            assertTrue(!exact.contains(key), "the lossy bytes were not demoted into the exact tier");
            assertEquals(demotedBefore, engine.stats().demotedChunks());
        } finally {
            engine.close();
        }
    }

    /**
     * Regression: a chunk promoted from a lossy tier carried the copy marks of every slower tier; when an exact tier
     * later reported evicting that key, its mark was cleared, and the cpu tier's next eviction of the chunk wrote the
     * lossy bytes into the exact tier, where they passed for exact KV.
     */
    @Test
    void aLossyChunkStaysOutOfAnExactTierThatReportedEvictingTheKey() throws Exception {
        FaultyTier lossy = new FaultyTier(new CpuTier(16 * CHUNK_BYTES, CHUNK_BYTES)).servesLossy(true);
        FaultyTier exact = new FaultyTier(new CpuTier(16 * CHUNK_BYTES, CHUNK_BYTES));
        TieredCacheEngine engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(3 * CHUNK_BYTES).build(), SMALL,
                System::nanoTime, UnaryOperator.identity(), List.of(lossy, exact));
        try (Arena arena = Arena.ofShared()) {
            int[] a = Engines.storePrompt(engine, arena, 1, 1);
            ChunkKey key = firstKey(a);
            await(() -> lossy.contains(key) && exact.contains(key), "a written behind to both tiers");
            for (int seed = 2; seed <= 4; seed++) {
                Engines.storePrompt(engine, arena, seed, 1); // a leaves the cpu tier: both tiers hold it, nothing demoted
            }
            assertEquals(CHUNK, engine.retrieve(a, SeededKv.contiguous(arena, SMALL, CHUNK), SeededKv.identitySlots(CHUNK)),
                    "a read from the lossy tier (the first slower one) and promoted");
            exact.delegate().remove(key);
            exact.reportEviction(key); // the exact tier evicted a on its own and said so
            long demotedBefore = engine.stats().demotedChunks();
            for (int seed = 5; seed <= 7; seed++) {
                Engines.storePrompt(engine, arena, seed, 1); // a leaves the cpu tier again
            }
            Thread.sleep(200); // write-behind is asynchronous: give a wrong demotion the time to land
            assertFalse(exact.contains(key), "the lossy bytes were not demoted into the exact tier");
            assertEquals(demotedBefore, engine.stats().demotedChunks());
        } finally {
            engine.close();
        }
        assertEquals(0, engine.outstandingPages(), "no page left held after close");
    }

    /** Regression: a demotion into a slower tier whose puts hang hung the store that evicted the chunk. */
    @Test
    void aFullDemotionQueueDropsAndCountsInsteadOfBlocking() throws Exception {
        int queued = TierStack.WRITE_BEHIND_CHUNKS;
        int budgetChunks = 1 + queued + 3;
        SlowTier slow = new SlowTier(new CpuTier(2 * budgetChunks * CHUNK_BYTES, CHUNK_BYTES), 0, 0).holdPuts();
        TieredCacheEngine engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(budgetChunks * CHUNK_BYTES).build(),
                SMALL, System::nanoTime, UnaryOperator.identity(), List.of(slow));
        try (Arena arena = Arena.ofShared()) {
            try {
                Engines.storePrompt(engine, arena, 1, 1);
                assertTrue(slow.awaitHeldPut(), "the write-behind thread is stuck in a put");
                Engines.storePrompt(engine, arena, 2, queued); // fills the write-behind queue
                for (int seed = 3; seed < 6; seed++) {
                    Engines.storePrompt(engine, arena, seed, 1); // written behind: no room, dropped
                }
                assertEquals(3, engine.stats().writeBehindDropped());
                assertEquals(budgetChunks, engine.stats().tiers().getFirst().chunks(), "the cpu tier is full");

                int stored = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                    int[] tokens = SeededKv.tokens(6, CHUNK);
                    HostKvMemory kv = SeededKv.contiguous(arena, SMALL, CHUNK);
                    int[] slots = SeededKv.identitySlots(CHUNK);
                    SeededKv.fill(kv, tokens, slots);
                    return engine.store(tokens, kv, slots); // evicts a chunk the slower tier lacks: its demotion has no room
                });
                assertEquals(CHUNK, stored);
                assertEquals(1, engine.stats().evictedChunks());
                assertEquals(0, engine.stats().demotedChunks());
                assertEquals(3 + 2, engine.stats().writeBehindDropped(), "the demotion and the new chunk's write-behind");
                var cpu = engine.stats().tiers().getFirst();
                assertTrue(cpu.usedBytes() <= cpu.capacityBytes());
            } finally {
                slow.letPutsGo();
            }
        } finally {
            engine.close();
        }
        assertEquals(0, engine.outstandingPages(), "no page left held after close");
    }

    /**
     * The page of an evicted chunk waiting for its demotion still counts against the cpu budget, but at most
     * a quarter of the pages (at least one) may wait so: an eviction beyond that drops its demotion (counted)
     * and frees its page, so evictions can never empty the cpu tier into a backlog.
     */
    @Test
    void pagesWaitingForTheirDemotionCountAgainstTheBudgetUpToAQuarterOfIt() throws Exception {
        FaultyTier faulty = new FaultyTier(new CpuTier(16 * CHUNK_BYTES, CHUNK_BYTES));
        SlowTier slow = new SlowTier(faulty, 0, 0);
        TieredCacheEngine engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(2 * CHUNK_BYTES).build(), SMALL,
                System::nanoTime, UnaryOperator.identity(), List.of(slow));
        try (Arena arena = Arena.ofShared()) {
            faulty.failPuts(true);
            Engines.storePrompt(engine, arena, 1, 1);
            Engines.storePrompt(engine, arena, 2, 1);
            await(() -> engine.stats().tiers().get(1).errors() >= 2, "neither was written behind");
            faulty.failPuts(false);
            slow.holdPuts();
            int[] c = SeededKv.tokens(3, CHUNK);
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, CHUNK);
            int[] slots = SeededKv.identitySlots(CHUNK);
            SeededKv.fill(kv, c, slots);
            long droppedBefore = engine.stats().writeBehindDropped();
            try {
                // evicts the oldest into the demotion queue (its page stays held), then the next, whose demotion is
                // dropped because one of the two pages already waits: its page is freed for c
                assertEquals(CHUNK, assertTimeoutPreemptively(Duration.ofSeconds(10), () -> engine.store(c, kv, slots)));
                assertEquals(2, engine.stats().evictedChunks());
                assertEquals(droppedBefore + 1, engine.stats().writeBehindDropped());
                var cpu = engine.stats().tiers().getFirst();
                assertEquals(1, cpu.chunks());
                assertEquals(2 * CHUNK_BYTES, cpu.usedBytes(), "c, and the page waiting for its demotion");
                assertEquals(1, engine.tierStack().demotionHolds());
            } finally {
                slow.letPutsGo();
            }
            await(() -> engine.stats().demotedChunks() == 1, "the held one demoted once the slower tier takes puts");
            await(() -> engine.tierStack().demotionHolds() == 0, "its page released");
        } finally {
            engine.close();
        }
        assertEquals(0, engine.outstandingPages(), "no page left held after close");
    }
}
