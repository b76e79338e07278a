package org.lmcache4j.blend;

/**
 * Moves K rows by {@code delta} positions: rotates every pair of every head by {@code delta * theta^(-2i/d)}.
 * The angle's cosine and sine and the rotation itself are computed in double and rounded once to float, so the
 * result is within a few float ulps (of the pair's length) of the K the model computes at the new position
 * directly; not bit-equal, since the model rotates the unrotated K in float with cosines of the new
 * position's angle, while this rotates K already rounded after the old position's rotation
 * ({@code BlenderTest} measures the bound).
 */
final class KeyRotation {

    private final RotaryEmbedding rope;
    private final int half;

    KeyRotation(RotaryEmbedding rope) {
        rope.requireStandard();
        this.rope = rope;
        this.half = rope.headDim() / 2;
    }

    /** Rotates {@code rows} rows of {@code heads * headDim} floats in {@code k} from {@code offset} by {@code delta} positions. */
    void rotate(float[] k, int offset, int rows, int heads, int delta) {
        if (delta == 0) {
            return;
        }
        double[] cos = new double[half];
        double[] sin = new double[half];
        for (int i = 0; i < half; i++) {
            double angle = delta * StrictMath.pow(rope.theta(), -2.0 * i / rope.headDim());
            cos[i] = StrictMath.cos(angle);
            sin[i] = StrictMath.sin(angle);
        }
        boolean halves = rope.pairs() == RotaryEmbedding.Pairs.HALVES;
        int step = halves ? 1 : 2;
        int partner = halves ? half : 1;
        for (int h = 0; h < rows * heads; h++) {
            int base = offset + h * rope.headDim();
            for (int i = 0; i < half; i++) {
                int at = base + i * step;
                double a = k[at];
                double b = k[at + partner];
                k[at] = (float) (a * cos[i] - b * sin[i]);
                k[at + partner] = (float) (a * sin[i] + b * cos[i]);
            }
        }
    }
}
