package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantScaleTest {

    private static final int SAMPLES = 20_000;

    @Test
    void int8ScalesMakeEveryCodeTimesScaleAnExactFloat() {
        SplittableRandom random = new SplittableRandom(17);
        for (int i = 0; i < SAMPLES; i++) {
            float max = randomPositiveFloat(random, i);
            float scale = QuantScale.of(max, 127, 17, -149);
            double exact = max / 127.0;
            assertTrue(scale > 0, "max " + max);
            assertTrue(max / (double) scale < 127.5, "max " + max + ", scale " + scale + ": the top code would pass 127");
            assertTrue(exact < 0x1p-133 ? scale < exact + 0x1p-149 : scale <= exact, "max " + max + ", scale " + scale);
            for (int q = -127; q <= 127; q++) {
                assertEquals(q * (double) scale, (double) (q * scale), "max " + max + ", scale " + scale + ", code " + q);
            }
        }
    }

    @Test
    void fp8ScalesMakeEveryCodeTimesScaleAnExactFloat() {
        SplittableRandom random = new SplittableRandom(18);
        for (int i = 0; i < SAMPLES; i++) {
            float max = randomPositiveFloat(random, i);
            float scale = QuantScale.of(max, 448, 20, -140);
            double exact = max / 448.0;
            assertTrue(scale > 0, "max " + max);
            assertTrue(max / (double) scale <= 448 * (1 + 0x1p-18), "max " + max + ", scale " + scale);
            assertTrue(exact < 0x1p-121 ? scale < exact + 0x1p-140 : scale <= exact, "max " + max + ", scale " + scale);
            for (int code = 0; code < 256; code++) {
                float v = Fp8E4m3.toFloat((byte) code);
                if (!Float.isNaN(v)) {
                    assertEquals(v * (double) scale, (double) (v * scale), "max " + max + ", scale " + scale + ", code " + code);
                }
            }
        }
    }

    @Test
    void aZeroMaximumHasAZeroScale() {
        assertEquals(0f, QuantScale.of(0f, 127, 17, -149));
        assertEquals(0f, QuantScale.of(0f, 448, 20, -140));
    }

    /** Any positive finite float, subnormals and the extremes included, with a share of round values. */
    private static float randomPositiveFloat(SplittableRandom random, int i) {
        return switch (i % 4) {
            case 0 -> Float.intBitsToFloat(random.nextInt(1, 0x7F80_0000));
            case 1 -> Float.intBitsToFloat(random.nextInt(1, 0x0100_0000)); // subnormal and smallest normals
            case 2 -> Float.intBitsToFloat(random.nextInt(0x7F00_0000, 0x7F80_0000)); // the top binades
            default -> (float) Math.scalb(1.0, random.nextInt(-149, 128)) * (1 + random.nextInt(4) / 4f);
        };
    }
}
