package org.lmcache4j.examples.engine;

import java.util.Arrays;

/**
 * Rotary position embedding: rotates pairs of a head vector by {@code pos * theta^(-2i/headDim)}. Pairs
 * are adjacent ({@code x[2i], x[2i+1]}, llama.cpp's normal mode for {@code llama}) or halves
 * ({@code x[i], x[i + headDim/2]}, NeoX mode for {@code qwen2}). Angles come from {@link StrictMath}, so
 * the tables are the same in every JVM and at every JIT stage.
 */
final class Rope {

    private final int half;
    private final double theta;
    private final boolean neox;
    private float[] cos = new float[0];
    private float[] sin = new float[0];
    private int positions;

    Rope(int headDim, double theta, boolean neox) {
        this.half = headDim / 2;
        this.theta = theta;
        this.neox = neox;
    }

    /** Makes positions {@code 0 .. n-1} available; call before a parallel section that applies them. */
    synchronized void ensure(int n) {
        if (n <= positions) {
            return;
        }
        int grown = Math.max(n, positions * 2);
        float[] c = Arrays.copyOf(cos, grown * half);
        float[] s = Arrays.copyOf(sin, grown * half);
        for (int p = positions; p < grown; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * StrictMath.pow(theta, -2.0 * i / (2 * half));
                c[p * half + i] = (float) StrictMath.cos(angle);
                s[p * half + i] = (float) StrictMath.sin(angle);
            }
        }
        cos = c;
        sin = s;
        positions = grown;
    }

    /** Rotates the head vector at {@code x[offset .. offset + headDim)} for {@code position}. */
    void apply(float[] x, int offset, int position) {
        int t = position * half;
        int step = neox ? 1 : 2;
        int partner = neox ? half : 1;
        for (int i = 0; i < half; i++) {
            int at = offset + i * step;
            float a = x[at];
            float b = x[at + partner];
            float c = cos[t + i];
            float s = sin[t + i];
            x[at] = a * c - b * s;
            x[at + partner] = a * s + b * c;
        }
    }
}
