package org.lmcache4j.blend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.lmcache4j.api.KvSegment;
import org.lmcache4j.api.SegmentMatch;

/**
 * A prefill that reuses cached segments' KV wherever they now sit in the prompt, and recomputes only the tokens
 * whose KV depends most on what now precedes them (CacheBlend, EuroSys 2025):
 *
 * <ol>
 *   <li>Every retrieved K row of layers from the check layer on is moved to its new position (one more RoPE
 *       rotation of {@code new - old}; V does not depend on the position).</li>
 *   <li>Layers before the check layer are computed for every token.</li>
 *   <li>At the check layer, fresh K of every token is compared with the cached K (squared L2 over heads and
 *       dimensions); the {@code ratio} of cached tokens that deviate most are kept for recomputation, with every
 *       token no segment covered (separators, misses, the question) and the last token (its logits).</li>
 *   <li>From the check layer on, only those tokens are computed: their fresh K and V overwrite the cached rows,
 *       and their queries attend over the whole sequence with a causal mask by position (a token sees exactly the
 *       positions up to its own, as in a full prefill; LMCache's packed mask lets some selected tokens see later
 *       ones, not done here).</li>
 * </ol>
 *
 * With {@code ratio = 1.0} every token is computed at every layer, so the result is the full prefill's, bit for
 * bit, with an engine whose kernels are batch invariant ({@link BlendModel}). With {@code ratio = 0} only the
 * uncovered tokens are. Immutable and thread-safe; one {@link #prefill} per sequence at a time.
 */
public final class Blender {

    /** LMCache's default share of cached tokens recomputed. */
    public static final double DEFAULT_RATIO = 0.15;
    /** LMCache's default check layer: layer 0 is computed for all tokens, layer 1 decides. */
    public static final int DEFAULT_CHECK_LAYER = 1;

    private final double ratio;
    private final int checkLayer;

    /**
     * @param ratio      the share of cached tokens recomputed, 0 to 1
     * @param checkLayer the layer whose K deviation selects them; the layers before it are computed for all tokens
     */
    public Blender(double ratio, int checkLayer) {
        if (!(ratio >= 0 && ratio <= 1)) {
            throw new IllegalArgumentException("ratio: " + ratio + " (expected: 0 to 1)");
        }
        if (checkLayer < 0) {
            throw new IllegalArgumentException("checkLayer: " + checkLayer + " (expected: >= 0)");
        }
        this.ratio = ratio;
        this.checkLayer = checkLayer;
    }

    /** {@link #DEFAULT_RATIO} at {@link #DEFAULT_CHECK_LAYER}. */
    public static Blender defaults() {
        return new Blender(DEFAULT_RATIO, DEFAULT_CHECK_LAYER);
    }

    public double ratio() {
        return ratio;
    }

    public int checkLayer() {
        return checkLayer;
    }

    /**
     * Checks that this blender's check layer is one of a model's {@code numLayers} layers: an engine calls it before
     * it retrieves anything into its memory for a blended request.
     *
     * @throws IllegalArgumentException when the check layer is past the model's layers
     */
    public void requireFits(int numLayers) {
        if (checkLayer >= numLayers) {
            throw new IllegalArgumentException("checkLayer: " + checkLayer + " (expected: below the model's " + numLayers + " layers)");
        }
    }

    /**
     * Runs the prefill of positions {@code 0 .. promptTokens-1}, the KV of {@code retrieved} segments being in the
     * model's KV memory as the connector retrieved it ({@code KvConnector.retrieveSegments}).
     *
     * @throws IllegalArgumentException before anything is computed or written: non-standard RoPE, a check layer
     *                                  past the model's layers, segments out of order, overlapping or past the prompt
     */
    public BlendResult prefill(BlendModel model, int promptTokens, List<SegmentMatch> retrieved) {
        model.rotary().requireStandard();
        requireFits(model.numLayers());
        if (promptTokens < 1) {
            throw new IllegalArgumentException("promptTokens: " + promptTokens + " (expected: >= 1)");
        }
        if (retrieved == null) {
            throw new IllegalArgumentException("retrieved: null (expected: the matches of retrieveSegments, possibly empty)");
        }
        KvSegment.requireWellFormed(retrieved.stream().map(m -> m == null ? null : m.segment()).toList(), promptTokens);
        KeyRotation rotation = new KeyRotation(model.rotary());
        int rowFloats = model.kvHeads() * model.rotary().headDim();

        int[] shift = new int[promptTokens];
        boolean[] covered = new boolean[promptTokens];
        for (SegmentMatch m : retrieved) {
            for (int p = m.segment().start(); p < m.segment().start() + m.cachedTokens(); p++) {
                covered[p] = true;
                shift[p] = m.shift();
            }
        }
        covered[promptTokens - 1] = false; // its logits are needed: always computed
        int[] all = IntStream.range(0, promptTokens).toArray();
        int[] cached = IntStream.range(0, promptTokens).filter(p -> covered[p]).toArray();
        moveCachedKeys(model, rotation, retrieved, covered, rowFloats);

        model.embed(all);
        float[] fresh = new float[promptTokens * rowFloats];
        for (int layer = 0; layer < checkLayer; layer++) {
            model.project(layer, all, fresh);
            model.writeKv(layer, all);
            model.finishLayer(layer, all);
        }
        model.project(checkLayer, all, fresh);
        float[] old = new float[cached.length * rowFloats];
        model.readKeys(checkLayer, cached, old);
        double[] deviation = new double[cached.length];
        for (int i = 0; i < cached.length; i++) {
            deviation[i] = squaredDistance(fresh, cached[i] * rowFloats, old, i * rowFloats, rowFloats);
        }
        int[] selected = select(covered, cached, deviation);
        model.writeKv(checkLayer, selected);
        model.finishLayer(checkLayer, selected);
        for (int layer = checkLayer + 1; layer < model.numLayers(); layer++) {
            model.project(layer, selected, fresh);
            model.writeKv(layer, selected);
            model.finishLayer(layer, selected);
        }
        double meanDeviation = Arrays.stream(deviation).average().orElse(0);
        return new BlendResult(model.logits(promptTokens - 1), promptTokens, cached.length,
                selected.length - (promptTokens - cached.length), selected.length, meanDeviation);
    }

    /** Rotates the retrieved K of every layer from the check layer on to the positions it now has, segment by segment. */
    private void moveCachedKeys(BlendModel model, KeyRotation rotation, List<SegmentMatch> retrieved, boolean[] covered,
                                int rowFloats) {
        for (SegmentMatch m : retrieved) {
            int[] positions = IntStream.range(m.segment().start(), m.segment().start() + m.cachedTokens())
                    .filter(p -> covered[p]).toArray();
            if (m.shift() == 0 || positions.length == 0) {
                continue;
            }
            float[] k = new float[positions.length * rowFloats];
            for (int layer = checkLayer; layer < model.numLayers(); layer++) {
                model.readKeys(layer, positions, k);
                rotation.rotate(k, 0, positions.length, model.kvHeads(), m.shift());
                model.writeKeys(layer, positions, k);
            }
        }
    }

    /**
     * The positions computed from the check layer on, in order: every uncovered one, and the {@code ratio} of the
     * cached ones (rounded up) with the largest deviation, ties to the earlier position.
     */
    private int[] select(boolean[] covered, int[] cached, double[] deviation) {
        int keep = (int) Math.ceil(ratio * cached.length);
        List<Integer> order = new ArrayList<>(cached.length);
        for (int i = 0; i < cached.length; i++) {
            order.add(i);
        }
        order.sort(Comparator.<Integer>comparingDouble(i -> -deviation[i]).thenComparingInt(i -> cached[i]));
        boolean[] chosen = new boolean[covered.length];
        for (int p = 0; p < chosen.length; p++) {
            chosen[p] = !covered[p];
        }
        for (int j = 0; j < keep; j++) {
            chosen[cached[order.get(j)]] = true;
        }
        return IntStream.range(0, chosen.length).filter(p -> chosen[p]).toArray();
    }

    private static double squaredDistance(float[] a, int aOff, float[] b, int bOff, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double d = (double) a[aOff + i] - b[bOff + i];
            sum += d * d;
        }
        return sum;
    }
}
