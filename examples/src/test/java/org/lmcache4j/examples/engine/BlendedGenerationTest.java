package org.lmcache4j.examples.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvSegment;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.blend.Blender;
import org.lmcache4j.examples.TinyModel;

/**
 * CacheBlend in the reference engine: documents cached from one prompt are reused in another, in another order;
 * at ratio 1.0 the result is the full prefill's, bit for bit; at lower ratios fewer tokens are computed.
 */
class BlendedGenerationTest {

    private static final int[] SYSTEM = tokens(1, 40);
    private static final int[] DOC_A = tokens(2, 150);
    private static final int[] DOC_B = tokens(3, 90);
    private static final int[] DOC_C = tokens(4, 120);

    private static int[] tokens(long seed, int n) {
        return new SplittableRandom(seed).ints(n, 0, 256).toArray();
    }

    private static LmCacheConfig cpuOnly() {
        return LmCacheConfig.builder().modelId("tiny-blend-test").maxLocalCpuBytes(64L << 20).localDisk(null).build();
    }

    /** The system prompt, the documents (each a segment), then the question. */
    private static SegmentedPrompt rag(int[] question, int[]... docs) {
        List<int[]> parts = new ArrayList<>(List.of(SYSTEM));
        parts.addAll(Arrays.asList(docs));
        return SegmentedPrompt.of(parts, question);
    }

    @Test
    void ratioOneGivesTheFullPrefillsLogitsTokensAndKvBitForBit() {
        try (LlamaEngine engine = new LlamaEngine(TinyModel.weights(), 4096, 2, 128);
             KvConnector cache = KvConnectors.open(cpuOnly(), engine.kvLayout())) {
            SegmentedPrompt first = rag(tokens(10, 12), DOC_A, DOC_B);
            engine.generateBlended(first.tokens(), first.segments(), 1, cache, new Blender(1.0, 1)).close();

            SegmentedPrompt second = rag(tokens(11, 15), DOC_B, DOC_C, DOC_A);
            try (Generation full = engine.generate(second.tokens(), 5);
                 Generation blended = engine.generateBlended(second.tokens(), second.segments(), 5, cache, new Blender(1.0, 1))) {
                assertEquals(SYSTEM.length + DOC_B.length + DOC_A.length, blended.cachedTokens(), "system prompt, B and A reused");
                assertArrayEquals(full.firstLogits(), blended.firstLogits(), "logits, bit for bit");
                assertArrayEquals(full.tokens(), blended.tokens(), "generated tokens");
                var kv = engine.memory().host();
                assertTrue(KvCheck.identical(kv, blended.promptSlots(), kv, full.promptSlots(), second.tokens().length),
                        "every layer's KV equals the full prefill's");
            }
        }
    }

    @Test
    void lowerRatiosReuseDocumentsAtNewPositionsAndStayCloseToTheFullPrefill() {
        try (LlamaEngine engine = new LlamaEngine(TinyModel.weights(), 4096, 2, 128);
             KvConnector cache = KvConnectors.open(cpuOnly(), engine.kvLayout())) {
            SegmentedPrompt first = rag(tokens(10, 12), DOC_A, DOC_B, DOC_C);
            try (Generation g = engine.generateBlended(first.tokens(), first.segments(), 1, cache, Blender.defaults())) {
                assertEquals(0, g.cachedTokens(), "nothing cached yet: a full prefill");
                assertEquals(first.tokens().length - 12, g.storedTokens(), "every segment stored");
            }
            SegmentedPrompt second = rag(tokens(11, 15), DOC_C, DOC_A, DOC_B);
            try (Generation full = engine.generate(second.tokens(), 1);
                 Generation blended = engine.generateBlended(second.tokens(), second.segments(), 1, cache, Blender.defaults())) {
                assertEquals(second.tokens().length - 15, blended.cachedTokens());
                assertEquals(0, blended.storedTokens(), "cached segments are not stored again");
                assertFalse(Arrays.equals(full.firstLogits(), blended.firstLogits()), "at 0.15 the logits are approximate");
                assertTrue(KvCheck.klDivergence(full.firstLogits(), blended.firstLogits()) < 0.5,
                        "KL " + KvCheck.klDivergence(full.firstLogits(), blended.firstLogits()));
            }
        }
    }

    /**
     * Layer 0's K depends on a token and its position only, so a document's cached layer-0 K, moved to a new place
     * (check layer 0, ratio 0: nothing of it recomputed), must match the full prefill's K there: to a few ulps of
     * each rotation pair's length (the bound of lmcache-blend's KeyRotationTest), not bit for bit.
     */
    @Test
    void movedKeysMatchKeysComputedAtTheNewPositionToAFewUlps() {
        try (LlamaEngine engine = new LlamaEngine(TinyModel.weights(), 4096, 2, 128);
             KvConnector cache = KvConnectors.open(cpuOnly(), engine.kvLayout())) {
            SegmentedPrompt first = rag(tokens(10, 3), DOC_A);
            engine.generateBlended(first.tokens(), first.segments(), 1, cache, new Blender(0, 0)).close();
            SegmentedPrompt second = rag(tokens(11, 3), DOC_C, DOC_A); // A moves by DOC_C's 120 positions
            try (Generation full = engine.generate(second.tokens(), 1);
                 Generation blended = engine.generateBlended(second.tokens(), second.segments(), 1, cache, new Blender(0, 0))) {
                int aStart = SYSTEM.length + DOC_C.length;
                int kvDim = engine.shape().kvDim();
                int half = engine.shape().headDim() / 2;
                double worst = 0;
                for (int p = aStart; p < aStart + DOC_A.length; p++) {
                    float[] moved = keyRow(engine, blended.promptSlots()[p], kvDim);
                    float[] direct = keyRow(engine, full.promptSlots()[p], kvDim);
                    for (int h = 0; h < kvDim / (2 * half); h++) {
                        for (int i = 0; i < half; i++) {
                            int a = h * 2 * half + i; // NeoX pairs (qwen2) or adjacent ones: both within the head
                            int b = engine.shape().neoxRope() ? a + half : h * 2 * half + 2 * i + 1;
                            a = engine.shape().neoxRope() ? a : h * 2 * half + 2 * i;
                            double ulp = Math.ulp((float) Math.hypot(direct[a], direct[b]));
                            worst = Math.max(worst, Math.max(Math.abs(moved[a] - direct[a]), Math.abs(moved[b] - direct[b])) / ulp);
                        }
                    }
                }
                assertTrue(worst <= 4, "moved K within " + worst + " ulps of the pair length");
            }
        }
    }

    private static float[] keyRow(LlamaEngine engine, int slot, int kvDim) {
        float[] row = new float[kvDim];
        java.lang.foreign.MemorySegment.copy(engine.memory().keys(0), java.lang.foreign.ValueLayout.JAVA_FLOAT,
                (long) slot * kvDim * Float.BYTES, row, 0, kvDim);
        return row;
    }

    @Test
    void badSegmentsAreRefusedAndTheEngineStaysUsable() {
        try (LlamaEngine engine = new LlamaEngine(TinyModel.weights(), 4096, 2, 128);
             KvConnector cache = KvConnectors.open(cpuOnly(), engine.kvLayout())) {
            SegmentedPrompt p = rag(tokens(11, 15), DOC_A, DOC_B);
            int free = engine.memory().freeBlocks();
            List<KvSegment> overlapping = List.of(new KvSegment(0, 50), new KvSegment(40, 100));
            assertThrows(IllegalArgumentException.class, () -> engine.generateBlended(p.tokens(), overlapping, 1, cache, Blender.defaults()));
            assertThrows(IllegalArgumentException.class, () -> engine.generateBlended(p.tokens(), p.segments(), 1, cache,
                    new Blender(0.15, TinyModel.weights().shape().layers())));
            assertEquals(free, engine.memory().freeBlocks(), "no blocks held");
            assertEquals(0, cache.stats().storedChunks(), "nothing stored");
        }
    }
}
