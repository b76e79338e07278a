package org.lmcache4j.blend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.KvSegment;
import org.lmcache4j.api.SegmentMatch;

/** The blend schedule over a model that records what it is asked: which tokens each layer computes, and why. */
class BlenderTest {

    private static final RotaryEmbedding ROPE = RotaryEmbedding.standard(4, 10_000, RotaryEmbedding.Pairs.HALVES);

    private static int[] range(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    private static int[] concat(int[]... parts) {
        return java.util.Arrays.stream(parts).flatMapToInt(java.util.Arrays::stream).toArray();
    }

    @Test
    void layersBeforeTheCheckLayerComputeEveryTokenAndLaterOnesTheSelectedAndUncovered() {
        RecordingModel model = new RecordingModel(4, 1, ROPE);
        model.fill(0, 20, 0f);
        for (int p = 0; p < 20; p++) {
            model.freshValue.put(p, p == 3 || p == 11 || p == 17 ? 5f : 0.1f); // three tokens deviate most
        }
        // cached: [0, 10) and [10, 20) of a 24-token prompt; 20..23 the question
        List<SegmentMatch> found = List.of(new SegmentMatch(new KvSegment(0, 10), 10, 0), new SegmentMatch(new KvSegment(10, 20), 10, 10));
        BlendResult r = new Blender(0.15, 1).prefill(model, 24, found);

        int[] selected = concat(new int[] {3, 11, 17}, range(20, 24));
        assertArrayEquals(range(0, 24), model.written.get(0));
        assertArrayEquals(range(0, 24), model.finished.get(0));
        for (int layer = 1; layer < 4; layer++) {
            assertArrayEquals(selected, model.written.get(layer), "layer " + layer + " writes");
            assertArrayEquals(selected, model.finished.get(layer), "layer " + layer + " computes");
        }
        assertEquals(List.of("embed 24", "project 0 24", "project 1 24", "project 2 7", "project 3 7"), model.calls);
        assertEquals(20, r.cachedTokens());
        assertEquals(3, r.recomputedCached()); // ceil(0.15 * 20)
        assertEquals(7, r.computedTokens());
        assertArrayEquals(new float[] {23}, r.logits());
    }

    @Test
    void aMissBetweenTwoHitsIsComputedInEveryLayer() {
        RecordingModel model = new RecordingModel(3, 1, ROPE);
        model.fill(0, 8, 0f);
        model.fill(12, 20, 0f);
        // segments [0,8) hit, [8,12) miss, [12,20) hit; the prompt ends with 2 question tokens
        List<SegmentMatch> found = List.of(new SegmentMatch(new KvSegment(0, 8), 8, 0), SegmentMatch.miss(new KvSegment(8, 12)),
                new SegmentMatch(new KvSegment(12, 20), 8, 40));
        new Blender(0, 1).prefill(model, 22, found);

        for (int layer = 0; layer < 3; layer++) {
            int[] w = model.written.get(layer);
            for (int p : concat(range(8, 12), range(20, 22))) {
                assertTrue(java.util.Arrays.binarySearch(w, p) >= 0, "position " + p + " computed in layer " + layer);
            }
        }
        assertArrayEquals(concat(range(8, 12), range(20, 22)), model.written.get(2), "ratio 0: only the uncovered");
    }

    @Test
    void ratioOneComputesEveryTokenInEveryLayer() {
        RecordingModel model = new RecordingModel(3, 1, ROPE);
        model.fill(0, 16, 1f);
        new Blender(1.0, 1).prefill(model, 17, List.of(new SegmentMatch(new KvSegment(0, 16), 16, 5)));
        for (int layer = 0; layer < 3; layer++) {
            assertArrayEquals(range(0, 17), model.written.get(layer));
            assertArrayEquals(range(0, 17), model.finished.get(layer));
        }
    }

    @Test
    void theLastTokenIsComputedEvenWhenASegmentCoversIt() {
        RecordingModel model = new RecordingModel(2, 1, ROPE);
        model.fill(0, 8, 0f);
        BlendResult r = new Blender(0, 1).prefill(model, 8, List.of(new SegmentMatch(new KvSegment(0, 8), 8, 0)));
        assertArrayEquals(new int[] {7}, model.finished.get(1));
        assertEquals(7, r.cachedTokens());
    }

    @Test
    void cachedKeysMoveByTheSegmentsShiftFromTheCheckLayerOn() {
        RecordingModel model = new RecordingModel(3, 1, ROPE);
        model.fill(0, 4, 1f);
        new Blender(0, 1).prefill(model, 6, List.of(new SegmentMatch(new KvSegment(0, 4), 4, 2)));
        float[] moved = {1, 1, 1, 1};
        new KeyRotation(ROPE).rotate(moved, 0, 1, 1, -2);
        assertArrayEquals(new float[] {1, 1, 1, 1}, model.keys.get(0).get(1), "layer 0 is recomputed: not moved");
        assertArrayEquals(moved, model.keys.get(1).get(1));
        assertArrayEquals(moved, model.keys.get(2).get(3));
    }

    @Test
    void badInputIsRefusedBeforeTheModelIsTouched() {
        List<SegmentMatch> ok = List.of(new SegmentMatch(new KvSegment(0, 4), 4, 2));
        RotaryEmbedding partial = new RotaryEmbedding(4, 2, 10_000, RotaryEmbedding.Pairs.HALVES, "none");
        RotaryEmbedding scaled = new RotaryEmbedding(4, 4, 10_000, RotaryEmbedding.Pairs.HALVES, "yarn");
        for (RotaryEmbedding rope : List.of(partial, scaled)) {
            RecordingModel model = new RecordingModel(2, 1, rope);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Blender.defaults().prefill(model, 6, ok));
            assertTrue(e.getMessage().contains("expected: standard RoPE"), e.getMessage());
            assertTrue(model.calls.isEmpty() && model.keyWrites.isEmpty());
        }
        List<List<SegmentMatch>> badSegments = List.of(
                List.of(new SegmentMatch(new KvSegment(0, 4), 4, 2), new SegmentMatch(new KvSegment(3, 5), 2, 0)),
                List.of(new SegmentMatch(new KvSegment(4, 6), 2, 2), new SegmentMatch(new KvSegment(0, 4), 4, 0)),
                List.of(new SegmentMatch(new KvSegment(0, 7), 7, 2)));
        for (List<SegmentMatch> bad : badSegments) {
            RecordingModel model = new RecordingModel(2, 1, ROPE);
            assertThrows(IllegalArgumentException.class, () -> Blender.defaults().prefill(model, 6, bad));
            assertTrue(model.calls.isEmpty() && model.keyWrites.isEmpty(), bad.toString());
        }
        RecordingModel model = new RecordingModel(2, 1, ROPE);
        assertThrows(IllegalArgumentException.class, () -> new Blender(0.15, 2).prefill(model, 6, ok));
        assertThrows(IllegalArgumentException.class, () -> new Blender(1.5, 1));
        assertThrows(IllegalArgumentException.class, () -> new Blender(Double.NaN, 1));
        assertTrue(model.calls.isEmpty() && model.keyWrites.isEmpty());
    }
}
