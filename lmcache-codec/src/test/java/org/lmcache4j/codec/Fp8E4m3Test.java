package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Fp8E4m3Test {

    private static final double[] DEFINED = java.util.stream.IntStream.range(0, 256).mapToDouble(Fp8E4m3Test::definition).toArray();

    /** The value of a code from the format's definition, in double arithmetic; NaN for 0x7F and 0xFF. */
    private static double definition(int code) {
        int sign = code >>> 7;
        int exponent = (code >>> 3) & 0xF;
        int mantissa = code & 0x7;
        if (exponent == 15 && mantissa == 7) {
            return Double.NaN;
        }
        double magnitude = exponent == 0 ? mantissa / 8.0 * Math.pow(2, -6) : (1 + mantissa / 8.0) * Math.pow(2, exponent - 7);
        return sign == 1 ? -magnitude : magnitude;
    }

    /**
     * The code {@code x} rounds to, by search: the nearest finite code, ties to the one with an even
     * mantissa, magnitudes of 448 and more to ±448, a zero to the zero of its sign.
     */
    private static int nearest(double x) {
        if (Double.isNaN(x)) {
            return -1;
        }
        int sign = (x < 0 || (x == 0 && 1 / x < 0)) ? 0x80 : 0;
        double a = Math.abs(x);
        if (a >= 448) {
            return sign | 0x7E;
        }
        int best = 0;
        for (int code = 1; code <= 0x7E; code++) {
            double d = Math.abs(DEFINED[code] - a);
            double bestD = Math.abs(DEFINED[best] - a);
            if (d < bestD || (d == bestD && (code & 1) == 0)) {
                best = code;
            }
        }
        return sign | best;
    }

    @Test
    void everyCodeDecodesToItsDefinedValue() {
        for (int code = 0; code < 256; code++) {
            double expected = definition(code);
            float decoded = Fp8E4m3.toFloat((byte) code);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(decoded), "code " + code);
            } else {
                assertEquals(Float.floatToRawIntBits((float) expected), Float.floatToRawIntBits(decoded),
                        "code 0x" + Integer.toHexString(code) + ": " + expected + " (sign of zero included)");
            }
        }
        assertEquals(448f, Fp8E4m3.toFloat((byte) 0x7E));
        assertEquals(0x1p-9f, Fp8E4m3.toFloat((byte) 0x01));
        assertEquals(0x1p-6f, Fp8E4m3.toFloat((byte) 0x08));
    }

    @Test
    void everyNonNanCodeRoundTrips() {
        for (int code = 0; code < 256; code++) {
            if ((code & 0x7F) == 0x7F) {
                continue;
            }
            float value = Fp8E4m3.toFloat((byte) code);
            assertEquals(code, Fp8E4m3.fromFloat(value) & 0xFF, "float " + value);
            assertEquals(code, Fp8E4m3.fromDouble(value) & 0xFF, "double " + value);
        }
    }

    @Test
    void midpointsBetweenNeighboursRoundToTheEvenCode() {
        for (int lower = 0; lower < 0x7E; lower++) {
            int upper = lower + 1;
            float mid = (Fp8E4m3.toFloat((byte) lower) + Fp8E4m3.toFloat((byte) upper)) / 2; // exact: 5 significant bits
            int even = (lower & 1) == 0 ? lower : upper;
            for (int sign : new int[] {0, 0x80}) {
                float m = sign == 0 ? mid : -mid;
                assertEquals(sign | even, Fp8E4m3.fromFloat(m) & 0xFF, "midpoint " + m);
                assertEquals(sign | even, Fp8E4m3.fromDouble(m) & 0xFF, "midpoint " + m + " as double");
                assertEquals(sign | upper, Fp8E4m3.fromFloat(sign == 0 ? Math.nextUp(m) : Math.nextDown(m)) & 0xFF, "just past " + m);
                assertEquals(sign | lower, Fp8E4m3.fromFloat(sign == 0 ? Math.nextDown(m) : Math.nextUp(m)) & 0xFF, "just short of " + m);
            }
        }
    }

    @Test
    void doublesNextToAMidpointRoundToTheirSideNotToAFalseTie() {
        // 1.0625 lies between 1 (0x38) and 1.125 (0x39); 2^-30 away is below half a float ulp there, so narrowing
        // to float by rounding to nearest would land on the midpoint and round to even (1), the wrong side.
        assertEquals(0x39, Fp8E4m3.fromDouble(1.0625 + 0x1p-30) & 0xFF);
        assertEquals(0x38, Fp8E4m3.fromDouble(1.0625 - 0x1p-30) & 0xFF);
        // 1.1875, between 1.125 (0x39) and 1.25 (0x3A), is a tie that goes up to the even 0x3A; just short of it, down.
        assertEquals(0x39, Fp8E4m3.fromDouble(1.1875 - 0x1p-30) & 0xFF);
        assertEquals(0x3A, Fp8E4m3.fromDouble(1.1875 + 0x1p-30) & 0xFF);
        assertEquals(0x01, Fp8E4m3.fromDouble(0x1p-10 + 0x1p-40) & 0xFF);
        assertEquals(0xB8, Fp8E4m3.fromDouble(-1.0625 + 0x1p-30) & 0xFF);
    }

    @Test
    void magnitudesFrom448UpSaturate() {
        float[] large = {448f, Math.nextUp(448f), 449f, 463.99f, 464f, Math.nextUp(464f), 480f, 1e6f, Float.MAX_VALUE, Float.POSITIVE_INFINITY};
        for (float v : large) {
            assertEquals(0x7E, Fp8E4m3.fromFloat(v) & 0xFF, "value " + v);
            assertEquals(0xFE, Fp8E4m3.fromFloat(-v) & 0xFF, "value " + -v);
            assertEquals(0x7E, Fp8E4m3.fromDouble(v) & 0xFF, "double " + v);
        }
        assertEquals(0x7E, Fp8E4m3.fromDouble(1e300) & 0xFF);
        assertEquals(0x7D, Fp8E4m3.fromFloat(Math.nextDown(432f)) & 0xFF, "just below the 416-448 midpoint: 416");
        assertEquals(0x7E, Fp8E4m3.fromFloat(432f) & 0xFF, "the 416-448 midpoint: to the even 448");
    }

    @Test
    void tinyMagnitudesRoundToZeroOrTheSmallestSubnormal() {
        assertEquals(0x00, Fp8E4m3.fromFloat(0x1p-10f) & 0xFF, "half the smallest subnormal is a tie: to even, zero");
        assertEquals(0x01, Fp8E4m3.fromFloat(Math.nextUp(0x1p-10f)) & 0xFF);
        assertEquals(0x00, Fp8E4m3.fromFloat(Math.nextDown(0x1p-10f)) & 0xFF);
        assertEquals(0x01, Fp8E4m3.fromFloat(0x1.8p-10f) & 0xFF);
        assertEquals(0x02, Fp8E4m3.fromFloat(0x1.8p-9f) & 0xFF, "1.5 units is a tie: to even, 2");
        assertEquals(0x08, Fp8E4m3.fromFloat(0x1p-6f - 0x1p-10f) & 0xFF, "7.5 units: to even, the smallest normal");
        assertEquals(0x00, Fp8E4m3.fromFloat(0x1p-11f) & 0xFF);
        assertEquals(0x00, Fp8E4m3.fromFloat(Float.MIN_VALUE) & 0xFF);
        assertEquals(0x80, Fp8E4m3.fromFloat(-Float.MIN_VALUE) & 0xFF);
        assertEquals(0x80, Fp8E4m3.fromFloat(-0x1p-10f) & 0xFF);
        assertEquals(0x81, Fp8E4m3.fromFloat(-0x1.8p-10f) & 0xFF);
        assertEquals(0x00, Fp8E4m3.fromFloat(0f) & 0xFF);
        assertEquals(0x80, Fp8E4m3.fromFloat(-0f) & 0xFF);
        assertEquals(0x00, Fp8E4m3.fromDouble(Double.MIN_VALUE) & 0xFF);
        assertEquals(0x01, Fp8E4m3.fromDouble(0x1p-10 + 0x1p-60) & 0xFF, "just past the tie, by less than a float ulp");
    }

    @Test
    void nanGivesANanCode() {
        float[] nans = {Float.NaN, Float.intBitsToFloat(0x7F800001), Float.intBitsToFloat(0x7FFFFFFF), Float.intBitsToFloat(0xFFC00000)};
        for (float nan : nans) {
            assertEquals(0x7F, Fp8E4m3.fromFloat(nan) & 0x7F, "NaN bits " + Integer.toHexString(Float.floatToRawIntBits(nan)));
            assertEquals(0x7F, Fp8E4m3.fromDouble(nan) & 0x7F);
        }
        assertEquals(0xFF, Fp8E4m3.fromFloat(Float.intBitsToFloat(0xFFC00000)) & 0xFF, "sign kept");
    }

    @Test
    void randomValuesRoundToTheNearestCodeFoundBySearch() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 60_000; i++) {
            float x = switch (i % 4) {
                case 0 -> (float) random.nextDouble(-500, 500);
                case 1 -> (float) Math.scalb(random.nextDouble(-2, 2), random.nextInt(-14, 9)); // across the exponent range
                case 2 -> Float.intBitsToFloat(random.nextInt()); // any float
                default -> Fp8E4m3.toFloat((byte) random.nextInt(256)) * (float) random.nextDouble(0.9, 1.1);
            };
            int expected = nearest(x);
            if (expected < 0) {
                assertEquals(0x7F, Fp8E4m3.fromFloat(x) & 0x7F, "NaN " + x);
            } else {
                assertEquals(expected, Fp8E4m3.fromFloat(x) & 0xFF, "float " + x);
            }
            double d = x + random.nextDouble(-1, 1) * Math.ulp(x) * 0x1p-10; // between floats
            if (!Double.isNaN(d) && !Double.isInfinite(d)) {
                assertEquals(nearest(d), Fp8E4m3.fromDouble(d) & 0xFF, "double " + d);
            }
        }
    }
}
