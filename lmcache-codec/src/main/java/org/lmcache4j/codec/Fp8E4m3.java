package org.lmcache4j.codec;

/**
 * Conversions between float and OCP FP8 E4M3 ("E4M3FN"), which Java has no type for.
 *
 * <p>A code is {@code s eeee mmm}: sign, a 4-bit exponent with bias 7 and a 3-bit mantissa. Exponent 0
 * holds the subnormals {@code m * 2^-9} (down to {@code 2^-9}); exponents 1-15 the normals
 * {@code (1 + m/8) * 2^(e-7)} from {@code 2^-6} up to 448 ({@code 0x7E}). There are no infinities:
 * {@code 0x7F} and {@code 0xFF} are NaN. Both zeros exist.
 *
 * <p>{@link #fromFloat} rounds to nearest, ties to even, by bit arithmetic on the float's fields, and
 * saturates: every magnitude from 448 up, infinity included, gives ±448 (the satfinite conversion of
 * accelerators; a value at 464 or above would round to 480, which E4M3 does not have). NaN gives NaN.
 * {@link #fromDouble} rounds a double the same way, correctly: it first narrows to float rounding to odd
 * (an inexact result keeps its last bit set), which with 24 bits against E4M3's 4 cannot create or break a
 * tie of the second rounding.
 */
final class Fp8E4m3 {

    /** The largest finite magnitude, code {@code 0x7E}. */
    static final float MAX = 448f;

    private static final int NAN_CODE = 0x7F;
    private static final int MAX_CODE = 0x7E;
    private static final int FLOAT_448_BITS = Float.floatToRawIntBits(MAX);
    private static final int FLOAT_MAX_BITS = 0x7F80_0000;
    private static final float[] VALUES = values();

    private Fp8E4m3() {
    }

    /** {@code value} rounded to E4M3, to nearest with ties to even, saturating at ±448; NaN gives a NaN code of its sign. */
    static byte fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 24) & 0x80;
        int abs = bits & 0x7FFF_FFFF;
        if (abs > FLOAT_MAX_BITS) {
            return (byte) (sign | NAN_CODE);
        }
        if (abs >= FLOAT_448_BITS) {
            return (byte) (sign | MAX_CODE);
        }
        int exponent = (abs >>> 23) - 127;
        if (exponent >= -6) {
            // Normal: biased exponent and the top 3 mantissa bits side by side, so a rounding carry out of the
            // mantissa steps the exponent. Below 448 the result is at most 0x7E.
            int code = ((exponent + 7) << 3) | ((abs >>> 20) & 0x7);
            return (byte) (sign | roundHalfEven(code, abs & 0xF_FFFF, 20));
        }
        if (exponent < -10) {
            return (byte) sign; // below 2^-10, half the smallest subnormal (float subnormals included): zero
        }
        // Subnormal: the magnitude in units of 2^-9 is the 24-bit significand shifted right by 14 - exponent
        // (21 to 24 bits); rounding 7.5 units or more up gives 8, the smallest normal's code.
        int significand = (abs & 0x7F_FFFF) | 0x80_0000;
        int shift = 14 - exponent;
        return (byte) (sign | roundHalfEven(significand >>> shift, significand & ((1 << shift) - 1), shift));
    }

    /** {@code value} rounded to E4M3 as {@link #fromFloat} rounds a float: correctly, with one rounding. */
    static byte fromDouble(double value) {
        float narrowed = (float) value;
        if (narrowed != value && !Double.isNaN(value)) {
            int bits = Float.floatToRawIntBits(narrowed);
            if (Math.abs((double) narrowed) > Math.abs(value)) {
                bits--; // rounded away from zero: step back to the truncated magnitude
            }
            narrowed = Float.intBitsToFloat(bits | 1);
        }
        return fromFloat(narrowed);
    }

    /** The value of {@code code}: exact, NaN for {@code 0x7F} and {@code 0xFF}. */
    static float toFloat(byte code) {
        return VALUES[code & 0xFF];
    }

    private static int roundHalfEven(int kept, int dropped, int droppedBits) {
        int half = 1 << (droppedBits - 1);
        if (dropped > half || (dropped == half && (kept & 1) != 0)) {
            return kept + 1;
        }
        return kept;
    }

    private static float[] values() {
        float[] values = new float[256];
        for (int code = 0; code < 256; code++) {
            int sign = (code & 0x80) << 24;
            int exponent = (code >>> 3) & 0xF;
            int mantissa = code & 0x7;
            float magnitude;
            if ((code & 0x7F) == NAN_CODE) {
                magnitude = Float.NaN;
            } else if (exponent == 0) {
                magnitude = mantissa * 0x1p-9f;
            } else {
                magnitude = Float.intBitsToFloat(((exponent + 120) << 23) | (mantissa << 20)); // float bias 127 = 7 + 120
            }
            values[code] = Float.intBitsToFloat(Float.floatToRawIntBits(magnitude) | sign);
        }
        return values;
    }
}
