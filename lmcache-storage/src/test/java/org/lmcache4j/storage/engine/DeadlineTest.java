package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.testing.SeededKv;

/**
 * A slow tier must never make the engine wait longer than recomputing: chunks that cannot arrive in
 * time are left out and the engine gets a shorter prefix. The slow tier sleeps 30 ms per read; every
 * limit below is far from that, so the outcomes do not depend on machine speed.
 */
class DeadlineTest {

    private static final long SLOW_MILLIS = 30;
    private static final int CPU_CHUNKS = 4;

    private final Arena arena = Arena.ofShared();
    private TieredCacheEngine engine;
    private CpuTier slowStore;

    @AfterEach
    void tearDown() {
        if (engine != null) {
            engine.close();
        }
        arena.close();
    }

    private void open(LmCacheConfig.Builder config) throws InterruptedException {
        slowStore = new CpuTier(64 * CHUNK_BYTES, CHUNK_BYTES);
        open(config, new SlowTier(slowStore, SLOW_MILLIS));
    }

    /**
     * Opens the engine over {@code slow}, then runs one store and retrieve and clears them: a retrieve's first run
     * in a JVM loads and initializes classes, which took longer than the 16 ms a limit of 1,000 tokens/s gives a
     * 16-token chunk, and so cut the first chunk of a test that happened to run first.
     */
    private void open(LmCacheConfig.Builder config, SlowTier slow) throws InterruptedException {
        engine = new TieredCacheEngine(config.maxLocalCpuBytes(CPU_CHUNKS * CHUNK_BYTES).build(), SMALL,
                System::nanoTime, UnaryOperator.identity(), List.of(slow));
        int[] warmUp = store(99, 1);
        awaitSlowChunks(1); // written behind before the clear, so it cannot land after it
        engine.retrieve(warmUp, SeededKv.contiguous(arena, SMALL, warmUp.length), SeededKv.identitySlots(warmUp.length));
        engine.clear();
    }

    private int[] store(int seed, int chunks) {
        return Engines.storePrompt(engine, arena, seed, chunks);
    }

    private void awaitSlowChunks(int n) throws InterruptedException {
        for (int i = 0; i < 1000 && slowStore.stats().chunks() < n; i++) {
            Thread.sleep(5);
        }
        assertEquals(n, slowStore.stats().chunks(), "chunks written behind to the slow tier");
    }

    /**
     * Stores a 3-chunk prompt and pushes it out of the cpu tier, so only the slow tier has it; then
     * retrieves it once (the slow tier's bandwidth gets measured) and pushes it out again.
     */
    private int[] storeOnlyInTheSlowTierAndMeasureIt() throws InterruptedException {
        int[] tokens = store(1, 3);
        awaitSlowChunks(3);
        store(1001, CPU_CHUNKS);
        awaitSlowChunks(3 + CPU_CHUNKS);
        HostKvMemory target = SeededKv.contiguous(arena, SMALL, tokens.length);
        // the first chunk is loaded while the tier is unmeasured (optimistic); the rate may stop the rest
        assertTrue(engine.retrieve(tokens, target, SeededKv.identitySlots(tokens.length)) >= CHUNK);
        store(1002, CPU_CHUNKS);
        awaitSlowChunks(3 + 2 * CPU_CHUNKS);
        return tokens;
    }

    @Test
    void aTightDeadlineLeavesOutSlowChunksButNotCpuChunks() throws Exception {
        open(Engines.config());
        int[] slow = storeOnlyInTheSlowTierAndMeasureIt();
        int[] fast = store(2, 2);

        assertEquals(0, engine.lookup(slow, Duration.ofMillis(10)), "30 ms chunks cannot arrive in 10 ms");
        assertEquals(3 * CHUNK, engine.lookup(slow), "without a deadline everything cached counts");
        assertEquals(2 * CHUNK, engine.lookup(fast, Duration.ofMillis(10)), "cpu chunks always fit");

        HostKvMemory target = SeededKv.contiguous(arena, SMALL, slow.length);
        int[] slots = SeededKv.identitySlots(slow.length);
        assertEquals(0, engine.retrieve(slow, null, target, slots, Duration.ofMillis(10)));
        assertTrue(SeededKv.isZero(target, slots, 0, slow.length));
        assertTrue(engine.stats().deadlineCuts() >= 2);
    }

    @Test
    void theRecomputeRateDerivesTheDeadline() throws Exception {
        // 16-token chunks: at 3,200 tokens/s recomputing a chunk takes 5 ms, loading it 30 ms: never worth it
        open(Engines.config().recomputeTokensPerSecond(3_200));
        int[] slow = storeOnlyInTheSlowTierAndMeasureIt();
        assertEquals(0, engine.lookup(slow));
        HostKvMemory target = SeededKv.contiguous(arena, SMALL, slow.length);
        assertEquals(0, engine.retrieve(slow, target, SeededKv.identitySlots(slow.length)));
    }

    @Test
    void aSlowEngineStillTakesSlowChunks() throws Exception {
        // at 100 tokens/s recomputing a chunk takes 160 ms: loading at 30 ms per chunk wins every time
        open(Engines.config().recomputeTokensPerSecond(100));
        int[] slow = storeOnlyInTheSlowTierAndMeasureIt();
        assertEquals(3 * CHUNK, engine.lookup(slow));
        HostKvMemory target = SeededKv.contiguous(arena, SMALL, slow.length);
        assertEquals(3 * CHUNK, engine.retrieve(slow, target, SeededKv.identitySlots(slow.length)));
    }

    @Test
    void aNegativeOrMissingDeadlineIsRejected() throws InterruptedException {
        open(Engines.config());
        int[] tokens = SeededKv.tokens(1, CHUNK);
        assertThrows(IllegalArgumentException.class, () -> engine.lookup(tokens, Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> engine.lookup(tokens, null));
        assertEquals(0, engine.lookup(tokens, java.time.Duration.ofSeconds(Long.MAX_VALUE)), "a huge deadline is no deadline");
    }

    @Test
    void aMaskedRetrieveWeighsOnlyTheTokensItWouldSave() throws Exception {
        // regression: the limit used the chunk's absolute end, so a chunk behind a long mask looked worth 3x its value
        open(Engines.config().recomputeTokensPerSecond(1_000)); // a 16-token chunk recomputes in 16 ms, loads in 30
        int[] slow = storeOnlyInTheSlowTierAndMeasureIt();
        boolean[] mask = new boolean[slow.length];
        java.util.Arrays.fill(mask, 2 * CHUNK, slow.length, true); // the engine holds the first two chunks
        HostKvMemory target = SeededKv.contiguous(arena, SMALL, slow.length);
        assertEquals(0, engine.retrieve(slow, mask, target, SeededKv.identitySlots(slow.length)),
                "recomputing the one chunk after the mask beats loading it");
    }

    @Test
    void chunksReadAheadInBatchesDoNotMakeTheEstimateOfOneChunkOptimistic() throws Exception {
        // a tier that reads a batch in the time of one chunk (30 ms), as several reads in flight do: a retrieve with a
        // limit reads one chunk at a time, so the 10 ms a chunk of a 3-chunk batch took is not what it will get
        slowStore = new CpuTier(64 * CHUNK_BYTES, CHUNK_BYTES);
        open(Engines.config(), SlowTier.pipelining(slowStore, SLOW_MILLIS));
        int[] slow = store(1, 3);
        awaitSlowChunks(3);
        int written = 3;
        for (int round = 0; round < 4; round++) {
            store(2000 + round, CPU_CHUNKS); // pushes the prompt out of the cpu tier
            written += CPU_CHUNKS;
            awaitSlowChunks(written);
            HostKvMemory target = SeededKv.contiguous(arena, SMALL, slow.length);
            int[] slots = SeededKv.identitySlots(slow.length);
            // round 0 with a limit far away: one chunk at a time, 30 ms each measured; then without: read ahead, one batch
            int got = round == 0 ? engine.retrieve(slow, null, target, slots, Duration.ofSeconds(10)) : engine.retrieve(slow, target, slots);
            assertEquals(3 * CHUNK, got, "round " + round);
        }
        store(3000, CPU_CHUNKS);
        awaitSlowChunks(written + CPU_CHUNKS);
        assertEquals(2 * CHUNK, engine.lookup(slow, Duration.ofMillis(75)), "two chunks of 30 ms fit in 75 ms, three do not");
    }
}
