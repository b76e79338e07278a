package org.lmcache4j.examples.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code Y = X W^T} for a batch of rows: {@code y[t][o] = sum_i x[t][i] * w[o][i]}.
 *
 * <p>Each output element is one fused multiply-add chain over {@code i = 0 .. cols-1}, started from zero,
 * in that order: the 6-row kernel and the 1-row kernel compute exactly the same chain, and the work is
 * split by output panels and token blocks, never along {@code i}. So a token's outputs are bit-identical
 * whatever the batch size, the threads, or which kernel handled it. The 6 x 2-vector register tile keeps
 * 12 accumulators and reuses each loaded weight vector six times.
 */
final class Matmul {

    private static final VectorSpecies<Float> F = VectorMath.F;
    private static final int L = VectorMath.L;
    private static final int P = PackedMatrix.PANEL;
    private static final int ROWS = 6;
    private static final int BLOCK_ROWS = 16 * ROWS;

    private Matmul() {
    }

    /** {@code y[0..n)[0..w.rows())} from {@code x[0..n)[0..w.cols())}, rows contiguous. */
    static void multiply(PackedMatrix w, float[] x, int n, float[] y, WorkerPool pool) {
        int panels = w.panels();
        int blocks = Math.ceilDiv(n, BLOCK_ROWS);
        pool.run(blocks * panels, (unit, worker) -> {
            int from = (unit / panels) * BLOCK_ROWS;
            block(w, x, from, Math.min(n, from + BLOCK_ROWS), unit % panels, y);
        });
    }

    /** Adds {@code bias[o]} to every row of {@code y}. */
    static void addBias(float[] y, int n, float[] bias) {
        for (int t = 0; t < n; t++) {
            VectorMath.addInPlace(y, t * bias.length, bias, 0, bias.length);
        }
    }

    private static void block(PackedMatrix w, float[] x, int from, int to, int panel, float[] y) {
        int out = w.rows();
        int in = w.cols();
        int o = panel * P;
        VectorMask<Float> m0 = F.indexInRange(o, out);
        VectorMask<Float> m1 = F.indexInRange(o + L, out);
        int wOff = panel * in * P;
        int t = from;
        for (; t + ROWS <= to; t += ROWS) {
            rows6(w.data(), wOff, x, t * in, in, y, t * out + o, out, m0, m1);
        }
        for (; t < to; t++) {
            rows1(w.data(), wOff, x, t * in, in, y, t * out + o, m0, m1);
        }
    }

    private static void rows6(float[] w, int wOff, float[] x, int x0, int in, float[] y, int y0, int out,
                              VectorMask<Float> m0, VectorMask<Float> m1) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        int x1 = x0 + in, x2 = x1 + in, x3 = x2 + in, x4 = x3 + in, x5 = x4 + in;
        for (int i = 0, wi = wOff; i < in; i++, wi += P) {
            FloatVector w0 = FloatVector.fromArray(F, w, wi);
            FloatVector w1 = FloatVector.fromArray(F, w, wi + L);
            FloatVector b = FloatVector.broadcast(F, x[x0 + i]);
            a00 = w0.fma(b, a00);
            a01 = w1.fma(b, a01);
            b = FloatVector.broadcast(F, x[x1 + i]);
            a10 = w0.fma(b, a10);
            a11 = w1.fma(b, a11);
            b = FloatVector.broadcast(F, x[x2 + i]);
            a20 = w0.fma(b, a20);
            a21 = w1.fma(b, a21);
            b = FloatVector.broadcast(F, x[x3 + i]);
            a30 = w0.fma(b, a30);
            a31 = w1.fma(b, a31);
            b = FloatVector.broadcast(F, x[x4 + i]);
            a40 = w0.fma(b, a40);
            a41 = w1.fma(b, a41);
            b = FloatVector.broadcast(F, x[x5 + i]);
            a50 = w0.fma(b, a50);
            a51 = w1.fma(b, a51);
        }
        store(a00, a01, y, y0, m0, m1);
        store(a10, a11, y, y0 + out, m0, m1);
        store(a20, a21, y, y0 + 2 * out, m0, m1);
        store(a30, a31, y, y0 + 3 * out, m0, m1);
        store(a40, a41, y, y0 + 4 * out, m0, m1);
        store(a50, a51, y, y0 + 5 * out, m0, m1);
    }

    private static void rows1(float[] w, int wOff, float[] x, int x0, int in, float[] y, int y0,
                              VectorMask<Float> m0, VectorMask<Float> m1) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int i = 0, wi = wOff; i < in; i++, wi += P) {
            FloatVector b = FloatVector.broadcast(F, x[x0 + i]);
            a0 = FloatVector.fromArray(F, w, wi).fma(b, a0);
            a1 = FloatVector.fromArray(F, w, wi + L).fma(b, a1);
        }
        store(a0, a1, y, y0, m0, m1);
    }

    private static void store(FloatVector a0, FloatVector a1, float[] y, int at, VectorMask<Float> m0, VectorMask<Float> m1) {
        a0.intoArray(y, at, m0);
        a1.intoArray(y, at + L, m1);
    }
}
