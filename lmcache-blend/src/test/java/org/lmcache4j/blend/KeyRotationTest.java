package org.lmcache4j.blend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Moving cached K by one rotation against computing K at the new position directly, the way engines do it:
 * float cosines and sines of {@code position * theta^(-2i/d)} (computed in double, rounded to float) applied to
 * the unrotated K in float arithmetic (the reference engine's {@code Rope}, llama.cpp's and vLLM's kernels).
 *
 * <p>Not bit-equal, and cannot be: the cached K was rounded to float after the old position's rotation, and the
 * engine's own rotation rounds its cosines, sines and products in float. Over 2,000 random head vectors (64
 * elements, both pairings, theta 10,000 and 1,000,000) at positions up to 32,768 in both directions, the moved
 * components were at most 2-3 ulps of their pair's length from the directly computed ones (3 for NeoX pairs at
 * theta 1,000,000); 4 is asserted. A shift of 0 leaves the bits alone.
 */
class KeyRotationTest {

    private static final int HEAD_DIM = 64;

    private static void engineRope(float[] x, int position, double theta, boolean halves) {
        int half = HEAD_DIM / 2;
        for (int i = 0; i < half; i++) {
            double angle = position * StrictMath.pow(theta, -2.0 * i / HEAD_DIM);
            float c = (float) StrictMath.cos(angle);
            float s = (float) StrictMath.sin(angle);
            int at = halves ? i : 2 * i;
            int partner = at + (halves ? half : 1);
            float a = x[at];
            float b = x[partner];
            x[at] = a * c - b * s;
            x[partner] = a * s + b * c;
        }
    }

    @Test
    void movedKeysAreWithinFourUlpsOfKeysComputedAtTheNewPosition() {
        SplittableRandom random = new SplittableRandom(7);
        for (RotaryEmbedding.Pairs pairs : RotaryEmbedding.Pairs.values()) {
            boolean halves = pairs == RotaryEmbedding.Pairs.HALVES;
            for (double theta : new double[] {10_000, 1_000_000}) {
                KeyRotation rotation = new KeyRotation(RotaryEmbedding.standard(HEAD_DIM, theta, pairs));
                double worst = 0;
                for (int trial = 0; trial < 500; trial++) {
                    float[] raw = new float[HEAD_DIM];
                    for (int i = 0; i < HEAD_DIM; i++) {
                        raw[i] = (float) (random.nextGaussian() * 3);
                    }
                    int from = random.nextInt(32_768);
                    int to = random.nextInt(32_768);
                    float[] cached = raw.clone();
                    engineRope(cached, from, theta, halves);
                    float[] direct = raw.clone();
                    engineRope(direct, to, theta, halves);
                    rotation.rotate(cached, 0, 1, 1, to - from);
                    worst = Math.max(worst, worstPairError(cached, direct, halves));
                }
                assertTrue(worst <= 4, pairs + " theta " + theta + ": worst error " + worst + " ulps of the pair's length");
            }
        }
    }

    /** The largest component difference, in ulps of the pair's length, over all pairs. */
    private static double worstPairError(float[] a, float[] b, boolean halves) {
        int half = HEAD_DIM / 2;
        double worst = 0;
        for (int i = 0; i < half; i++) {
            int at = halves ? i : 2 * i;
            int partner = at + (halves ? half : 1);
            float length = (float) Math.hypot(b[at], b[partner]);
            double ulp = Math.ulp(length);
            worst = Math.max(worst, Math.max(Math.abs(a[at] - b[at]), Math.abs(a[partner] - b[partner])) / ulp);
        }
        return worst;
    }

    @Test
    void aShiftOfZeroLeavesTheBitsAlone() {
        float[] k = {1.5f, -0.0f, Float.MIN_VALUE, 3e38f};
        float[] before = k.clone();
        new KeyRotation(RotaryEmbedding.standard(4, 10_000, RotaryEmbedding.Pairs.ADJACENT)).rotate(k, 0, 1, 1, 0);
        assertArrayEquals(before, k);
    }
}
