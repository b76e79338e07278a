package org.lmcache4j.examples.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise and per-row kernels of the engine: exp, SiLU gating, RMSNorm, residual add.
 *
 * <p>Every result depends only on the inputs of its own row, never on how many rows a call holds, so a
 * token's activations are the same whether it is prefilled alone or in a batch. Only exact operations
 * are used (add, mul, fma, compare, bit tricks): the Vector API's own {@code EXP} may be computed by a
 * native library when compiled and by {@code Math.exp} when interpreted, which would make results
 * depend on JIT timing. Reductions (RMSNorm's sum of squares) run lane-wise and fold the lanes in a fixed
 * order, so they depend on the machine's vector width and nothing else.
 */
public final class VectorMath {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();

    private static final float LOG2E = 1.44269504088896341f;
    private static final float NEG_LN2_HI = -0.693359375f;
    private static final float NEG_LN2_LO = 2.12194440e-4f;
    private static final float C2 = 8.3334519073e-3f;
    private static final float C3 = 4.1665795894e-2f;
    private static final float C4 = 1.6666665459e-1f;
    private static final float C5 = 5.0000001201e-1f;
    private static final float ROUND_MAGIC = 12582912f; // 1.5 * 2^23: adding and subtracting rounds to an integer
    private static final float EXP_MIN = -87f;
    private static final float EXP_MAX = 88f;

    private VectorMath() {
    }

    /**
     * e^x per lane, within about 2 ulp, for x clamped to [-87, 88] (so the result is a normal float):
     * Cephes' expf, range-reduced by ln 2 and rebuilt from the exponent bits.
     */
    public static FloatVector exp(FloatVector x) {
        x = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector n = x.mul(LOG2E).add(ROUND_MAGIC).sub(ROUND_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(F, NEG_LN2_HI), x);
        r = n.fma(FloatVector.broadcast(F, NEG_LN2_LO), r);
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
        p = p.fma(r, FloatVector.broadcast(F, C2));
        p = p.fma(r, FloatVector.broadcast(F, C3));
        p = p.fma(r, FloatVector.broadcast(F, C4));
        p = p.fma(r, FloatVector.broadcast(F, C5));
        p = p.fma(r.mul(r), r).add(1f);
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    /** e^x for one value, computed exactly as one lane of {@link #exp(FloatVector)}. */
    public static float exp(float x) {
        float[] one = new float[L];
        one[0] = x;
        return exp(FloatVector.fromArray(F, one, 0)).lane(0);
    }

    /**
     * SwiGLU: {@code out[i] = silu(gate[i]) * up[i]} for {@code n} values, where {@code gate} starts at
     * {@code gu[guOffset]} and {@code up} follows it ({@code gu[guOffset + n]}).
     */
    public static void swiglu(float[] gu, int guOffset, int n, float[] out, int outOffset) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(F, gu, guOffset + i);
            FloatVector u = FloatVector.fromArray(F, gu, guOffset + n + i);
            g.div(exp(g.neg()).add(1f)).mul(u).intoArray(out, outOffset + i);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector g = FloatVector.fromArray(F, gu, guOffset + i, m);
            FloatVector u = FloatVector.fromArray(F, gu, guOffset + n + i, m);
            g.div(exp(g.neg()).add(1f)).mul(u).intoArray(out, outOffset + i, m);
        }
    }

    /** {@code out = x * w / sqrt(mean(x^2) + eps)} over {@code n} values. */
    public static void rmsNorm(float[] x, int xOffset, float[] w, float eps, float[] out, int outOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOffset + i);
            acc = v.fma(v, acc);
        }
        if (i < n) {
            FloatVector v = FloatVector.fromArray(F, x, xOffset + i, F.indexInRange(i, n));
            acc = v.fma(v, acc);
        }
        float ss = sumLanes(acc);
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (i = 0; i < bound; i += L) {
            FloatVector.fromArray(F, x, xOffset + i).mul(scale).mul(FloatVector.fromArray(F, w, i)).intoArray(out, outOffset + i);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, xOffset + i, m).mul(scale).mul(FloatVector.fromArray(F, w, i, m)).intoArray(out, outOffset + i, m);
        }
    }

    /** {@code dst[i] += src[i]} for {@code n} values. */
    public static void addInPlace(float[] dst, int dstOffset, float[] src, int srcOffset, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(F, dst, dstOffset + i).add(FloatVector.fromArray(F, src, srcOffset + i)).intoArray(dst, dstOffset + i);
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector.fromArray(F, dst, dstOffset + i, m).add(FloatVector.fromArray(F, src, srcOffset + i, m))
                    .intoArray(dst, dstOffset + i, m);
        }
    }

    /** The lanes of {@code v} added from lane 0 up: a fixed order, unlike {@code reduceLanes(ADD)}. */
    static float sumLanes(FloatVector v) {
        float[] lanes = v.toArray();
        float s = 0;
        for (float x : lanes) {
            s += x;
        }
        return s;
    }

    /** Index of the largest value; the first one on ties. */
    public static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
