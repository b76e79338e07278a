package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.storage.hash.ChunkHasher;
import org.lmcache4j.storage.hash.PromptChunks;
import org.lmcache4j.testing.SeededKv;

/**
 * The tier stack with a second, larger in-memory tier standing in for a slower one: stores are written
 * behind to it, cpu evictions are kept there, hits there are promoted, prefetch brings chunks back up.
 */
class TierStackTest {

    private static final int CPU_CHUNKS = 4;

    private final Arena arena = Arena.ofShared();
    private CpuTier slower;
    private TieredCacheEngine engine;

    @BeforeEach
    void setUp() {
        slower = new CpuTier(64 * CHUNK_BYTES, CHUNK_BYTES);
        engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(CPU_CHUNKS * CHUNK_BYTES).build(), SMALL,
                System::nanoTime, UnaryOperator.identity(), List.of(slower));
    }

    @AfterEach
    void tearDown() {
        engine.close();
        arena.close();
    }

    private int[] store(int seed, int chunks) {
        return Engines.storePrompt(engine, arena, seed, chunks);
    }

    private void awaitWrittenBehind(int chunks) throws InterruptedException {
        for (int i = 0; i < 500 && slower.stats().chunks() < chunks; i++) {
            Thread.sleep(10);
        }
        assertEquals(chunks, slower.stats().chunks(), "chunks written behind");
    }

    @Test
    void storesAreWrittenBehindAndEvictedChunksStillHitAndArePromoted() throws Exception {
        int[] first = store(1, 3);
        awaitWrittenBehind(3);
        store(2, 4); // evicts all of the first prompt from the cpu tier
        awaitWrittenBehind(7);
        assertTrue(engine.stats().evictedChunks() >= 3);

        assertEquals(3 * CHUNK, engine.lookup(first), "lookup spans tiers");
        HostKvMemory target = SeededKv.paged(arena, SMALL, 12, 4);
        int[] targetSlots = SeededKv.shuffledSlots(5, first.length, target.numSlots());
        assertEquals(3 * CHUNK, engine.retrieve(first, target, targetSlots));
        HostKvMemory expected = SeededKv.contiguous(arena, SMALL, first.length);
        int[] slots = SeededKv.identitySlots(first.length);
        SeededKv.fill(expected, first, slots);
        SeededKv.assertSameKv(expected, slots, target, targetSlots, 0, first.length);
        assertEquals(3, engine.stats().promotedChunks());
        assertEquals(3 * CHUNK, engine.retrieve(first, target, targetSlots));
        assertEquals(3, engine.stats().promotedChunks(), "the second retrieve is served by the cpu tier");
    }

    @Test
    void prefetchLoadsSlowerChunksIntoTheCpuTier() throws Exception {
        int[] first = store(1, 2);
        awaitWrittenBehind(2);
        store(2, 4);
        awaitWrittenBehind(6);
        assertEquals(2 * CHUNK, (int) engine.prefetch(first).get());
        assertEquals(2, engine.stats().promotedChunks());
        CpuTier cpu = engine.tierStack().cpu().orElseThrow();
        PromptChunks chunks = new PromptChunks(ChunkHasher.create(org.lmcache4j.api.HashAlgorithm.SHA_256,
                Engines.config().build().namespace(SMALL)), first, CHUNK, false);
        assertTrue(cpu.contains(chunks.key(0)) && cpu.contains(chunks.key(1)), "prefetched into the cpu tier");
    }

    @Test
    void aPrefetchOfMoreThanTheCpuTierHoldsReportsWhatItHolds() throws Exception {
        // regression: each promotion could evict the prompt's earlier ones, so prefetch reported 6 chunks while the cpu
        // tier held the last 4, none of them a prefix
        int n = (CPU_CHUNKS + 2) * CHUNK;
        int[] first = SeededKv.tokens(1, n);
        int[] slots = SeededKv.identitySlots(n);
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
        SeededKv.fill(kv, first, slots);
        assertEquals(CPU_CHUNKS * CHUNK, engine.store(java.util.Arrays.copyOf(first, CPU_CHUNKS * CHUNK), kv,
                java.util.Arrays.copyOf(slots, CPU_CHUNKS * CHUNK)));
        awaitWrittenBehind(CPU_CHUNKS); // a chunk being written behind cannot be evicted yet
        boolean[] rest = new boolean[n]; // a store keeps its own earlier chunks: the last two in a second store
        java.util.Arrays.fill(rest, CPU_CHUNKS * CHUNK, n, true);
        assertEquals(2 * CHUNK, engine.store(first, rest, kv, slots));
        awaitWrittenBehind(CPU_CHUNKS + 2);
        store(2, CPU_CHUNKS);
        awaitWrittenBehind(2 * CPU_CHUNKS + 2);
        int prefetched = engine.prefetch(first).get();
        assertEquals(CPU_CHUNKS * CHUNK, prefetched, "the cpu tier holds four chunks");
        CpuTier cpu = engine.tierStack().cpu().orElseThrow();
        PromptChunks chunks = new PromptChunks(ChunkHasher.create(org.lmcache4j.api.HashAlgorithm.SHA_256,
                Engines.config().build().namespace(SMALL)), first, CHUNK, false);
        for (int i = 0; i < CPU_CHUNKS; i++) {
            assertTrue(cpu.contains(chunks.key(i)), "chunk " + i + " of the reported prefix is in the cpu tier");
        }
    }

    @Test
    void chunksTheWriteBehindCouldNotPlaceAreDemotedWhenEvicted() throws Exception {
        engine.close();
        slower = new CpuTier(64 * CHUNK_BYTES, CHUNK_BYTES);
        org.lmcache4j.testing.FaultyTier faulty = new org.lmcache4j.testing.FaultyTier(slower);
        // 12 pages: up to a quarter (3) may wait for their demotion at once
        engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(12 * CHUNK_BYTES).build(), SMALL,
                System::nanoTime, UnaryOperator.identity(), List.of(faulty));
        faulty.failPuts(true);
        int[] first = store(1, 3);
        for (int i = 0; i < 500 && engine.stats().tiers().get(1).errors() < 3; i++) {
            Thread.sleep(10); // the write-behind tries and fails for each chunk
        }
        assertEquals(0, slower.stats().chunks());
        faulty.failPuts(false);
        store(2, 12); // evicts the first prompt's chunks, which the slower tier lacks
        for (int i = 0; i < 500 && engine.stats().demotedChunks() < 3; i++) {
            Thread.sleep(10); // demoted behind the store's back, by the write-behind thread
        }
        assertEquals(3, engine.stats().demotedChunks());
        assertEquals(3 * CHUNK, engine.lookup(first), "the demoted chunks still hit");
    }
}
