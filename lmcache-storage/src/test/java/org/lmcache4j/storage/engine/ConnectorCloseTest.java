package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.storage.cpu.BlockedPipeWriter;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.storage.hash.ChunkHasher;
import org.lmcache4j.storage.hash.PromptChunks;
import org.lmcache4j.testing.SeededKv;

/** What close() leaves behind: nothing mapped, no future pending, no exception for the engine. */
class ConnectorCloseTest {

    /** 2 layers, 8 KV heads of 128 fp16 elements: 8 KiB per token, so one chunk (128 KiB) overfills a pipe. */
    private static final KvLayout WIDE = KvLayout.standard(2, 8, 128, KvDtype.FP16);

    /**
     * Regression: a thread inside a write of a cpu chunk's memory made the slab's unmap fail at close; the
     * slab stayed mapped for good (and the slabs after it were never unmapped either).
     */
    @Test
    void closeWhileAThreadWritesCpuMemoryNeitherThrowsNorLeaksTheMapping() throws Exception {
        LmCacheConfig config = Engines.config().maxLocalCpuBytes(4 * WIDE.chunkBytes(CHUNK)).build();
        TieredCacheEngine engine = new TieredCacheEngine(config, WIDE);
        int[] tokens = SeededKv.tokens(1, CHUNK);
        try (Arena arena = Arena.ofConfined()) {
            HostKvMemory kv = SeededKv.contiguous(arena, WIDE, CHUNK);
            int[] slots = SeededKv.identitySlots(CHUNK);
            SeededKv.fill(kv, tokens, slots);
            assertEquals(CHUNK, engine.store(tokens, kv, slots));
        }
        CpuTier cpu = engine.tierStack().cpu().orElseThrow();
        ChunkKey key = new PromptChunks(ChunkHasher.create(config.hashAlgorithm(), config.namespace(WIDE)), tokens, CHUNK,
                false).key(0);
        ChunkBuffer held = cpu.get(key).orElseThrow(); // a reader's hold, as a write-behind thread has one
        BlockedPipeWriter writer = new BlockedPipeWriter(held.segment());
        try {
            assertDoesNotThrow(engine::close);
            assertDoesNotThrow(engine::close, "close stays idempotent");
            assertTrue(cpu.mappedBytes() > 0, "the slab being written stays mapped while it is written");
        } finally {
            writer.release();
        }
        held.close();
        for (int i = 0; i < 500 && cpu.mappedBytes() > 0; i++) {
            Thread.sleep(10); // retried in the background every 100 ms
        }
        assertEquals(0, cpu.mappedBytes(), "unmapped once the write ended");
        assertEquals(0, cpu.outstandingPages());
        assertDoesNotThrow(engine::close);
    }

    /** Regression: close() dropped the prefetches still queued, and their futures never completed. */
    @Test
    void everyPrefetchCompletesWithinASecondOfClose() throws Exception {
        CpuTier below = new CpuTier(16 * CHUNK_BYTES, CHUNK_BYTES);
        TieredCacheEngine engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(4 * CHUNK_BYTES).build(), SMALL,
                System::nanoTime, UnaryOperator.identity(), List.of(new SlowTier(below, 200)));
        List<CompletableFuture<Integer>> prefetches = new ArrayList<>();
        for (int seed = 0; seed < 20; seed++) {
            prefetches.add(engine.prefetch(SeededKv.tokens(seed, 2 * CHUNK))); // each asks the slow tier: 400 ms
        }
        Thread.sleep(50); // the first one is running
        long closeNanos = System.nanoTime();
        engine.close();
        for (CompletableFuture<Integer> f : prefetches) {
            long leftNanos = Math.max(0, TimeUnit.SECONDS.toNanos(1) - (System.nanoTime() - closeNanos));
            try {
                assertEquals(0, f.get(leftNanos, TimeUnit.NANOSECONDS), "nothing to prefetch");
            } catch (ExecutionException e) {
                assertTrue(e.getCause() instanceof IllegalStateException, e.toString());
                assertTrue(e.getCause().getMessage().contains("closed before the prefetch ran"), e.getCause().getMessage());
            }
        }
        assertTrue(prefetches.getLast().isCompletedExceptionally(), "the last one was still queued at close");
    }
}
