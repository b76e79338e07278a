package org.lmcache4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.bench.BenchKv;

/** A hit's retrieve repeated as its baseline is: every repeat puts the cached bytes back, and a lost prefix ends them. */
class RetrieveRepeatsTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 1, 8, KvDtype.FP16);
    private static final int TOKENS = 512;

    private static KvConnector cpuOnly() {
        return KvConnectors.open(LmCacheConfig.builder().modelId("repeats").chunkTokens(256).maxLocalCpuBytes(8L << 20).noLocalDisk()
                .build(), LAYOUT);
    }

    @Test
    void eachRepeatRetrievesTheWholeHitIntoTheSameSlotsAndTheFirstTimeIsTheRequestsOwn() {
        try (Arena arena = Arena.ofConfined(); KvConnector cache = cpuOnly(); RawCopy evictor = new RawCopy(1 << 20)) {
            HostKvMemory source = BenchKv.contiguous(arena, LAYOUT, TOKENS, 1);
            HostKvMemory engine = BenchKv.contiguous(arena, LAYOUT, 2 * TOKENS, 2);
            int[] prompt = BenchKv.tokens(3, TOKENS + 10);
            cache.store(java.util.Arrays.copyOf(prompt, TOKENS), source, BenchKv.identity(TOKENS));
            int[] slots = new int[TOKENS + 10];
            for (int i = 0; i < slots.length; i++) {
                slots[i] = 2 * TOKENS - 1 - i; // reversed: every token a run of its own, as a paged engine's shuffled blocks
            }

            double[] runs = RetrieveRepeats.measure(cache, evictor, engine, prompt, slots, TOKENS, 42.0);

            assertEquals(RawCopy.REPEATS, runs.length);
            assertEquals(42.0, runs[0], "the request's own retrieve comes first");
            for (int i = 1; i < runs.length; i++) {
                assertTrue(runs[i] > 0, "repeat " + i + ": " + runs[i]);
            }
            for (int layer = 0; layer < LAYOUT.numLayers(); layer++) {
                for (int plane = 0; plane < LAYOUT.planes(); plane++) {
                    for (int t = 0; t < TOKENS; t++) {
                        MemorySegment want = source.plane(layer, plane).asSlice((long) t * LAYOUT.rowBytes(), LAYOUT.rowBytes());
                        MemorySegment got = engine.plane(layer, plane).asSlice((long) slots[t] * LAYOUT.rowBytes(), LAYOUT.rowBytes());
                        assertEquals(-1, want.mismatch(got), "layer " + layer + ", plane " + plane + ", token " + t);
                    }
                }
            }
        }
    }

    @Test
    void aPrefixNoLongerCachedEndsTheRepeatsWithTheRequestsTimeAlone() {
        try (Arena arena = Arena.ofConfined(); KvConnector cache = cpuOnly(); RawCopy evictor = new RawCopy(1 << 20)) {
            HostKvMemory engine = BenchKv.contiguous(arena, LAYOUT, TOKENS, 2);
            int[] prompt = BenchKv.tokens(4, TOKENS);
            cache.store(prompt, BenchKv.contiguous(arena, LAYOUT, TOKENS, 1), BenchKv.identity(TOKENS));
            cache.clear();

            assertArrayEquals(new double[] {7.5}, RetrieveRepeats.measure(cache, evictor, engine, prompt, BenchKv.identity(TOKENS), 256, 7.5));
        }
    }

    @Test
    void refusesAHitLongerThanThePromptOrTheSlotsOrEmpty() {
        try (Arena arena = Arena.ofConfined(); KvConnector cache = cpuOnly(); RawCopy evictor = new RawCopy(1 << 20)) {
            HostKvMemory engine = BenchKv.contiguous(arena, LAYOUT, TOKENS, 2);
            int[] prompt = BenchKv.tokens(5, 256);
            for (int bad : new int[] {0, -1, 257}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> RetrieveRepeats.measure(cache, evictor, engine, prompt, BenchKv.identity(256), bad, 1.0));
                assertTrue(e.getMessage().startsWith("cachedTokens: " + bad + " (expected: 1 to 256"), e.getMessage());
            }
        }
    }

    @Test
    void theMedianIsTheMiddleValueOrTheMeanOfTheTwoMiddleOnes() {
        assertEquals(3.0, RetrieveRepeats.median(new double[] {9, 1, 3}));
        assertEquals(2.0, RetrieveRepeats.median(new double[] {3, 1}));
        assertEquals(5.0, RetrieveRepeats.median(new double[] {5}));
        assertTrue(Double.isNaN(RetrieveRepeats.median(new double[0])));
    }
}
