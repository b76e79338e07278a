package org.lmcache4j.examples.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The engine's own exp is accurate, and its kernels treat every row alike. */
class VectorMathTest {

    @Test
    void expIsWithinAFewUlpOfMathExp() {
        for (double x = -87; x <= 88; x += 0.01) {
            float got = VectorMath.exp((float) x);
            double want = Math.exp((float) x);
            assertTrue(Math.abs(got - want) <= 4 * Math.ulp((float) want), "exp(" + (float) x + ") = " + got + ", expected " + want);
        }
        assertEquals(1f, VectorMath.exp(0f));
        assertTrue(VectorMath.exp(-1000f) > 0, "clamped, never zero or NaN");
    }

    @Test
    void rmsNormOfARowDoesNotDependOnItsNeighbours() {
        int n = 100; // not a multiple of the vector length: exercises the masked tail
        float[] w = new float[n];
        java.util.Arrays.fill(w, 1.5f);
        float[] rows = new float[3 * n];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (float) Math.cos(i);
        }
        float[] alone = new float[n];
        VectorMath.rmsNorm(rows, n, w, 1e-5f, alone, 0, n);
        float[] all = new float[3 * n];
        for (int r = 0; r < 3; r++) {
            VectorMath.rmsNorm(rows, r * n, w, 1e-5f, all, r * n, n);
        }
        assertEquals(java.util.Arrays.toString(alone), java.util.Arrays.toString(java.util.Arrays.copyOfRange(all, n, 2 * n)));
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (double) rows[n + i] * rows[n + i];
        }
        assertEquals(1.5 * rows[n] / Math.sqrt(ss / n + 1e-5), alone[0], 1e-5);
    }

    @Test
    void argmaxTakesTheFirstOfEqualMaxima() {
        assertEquals(1, VectorMath.argmax(new float[] {0, 3, 1, 3}));
    }
}
