package org.lmcache4j.codec;

/**
 * Conversions between float and OCP FP8 E4M3 ("E4M3FN"), which Java has no type for.
 *
 * <p>A code is {@code s eeee mmm}: sign, a 4-bit exponent with bias 7 and a 3-bit mantissa. Exponent 0
 * holds the subnormals {@code m * 2^-9} (down to {@code 2^-9}); exponents 1-15 the normals
 * {@code (1 + m/8) * 2^(e-7)} from {@code 2^-6} up to 448 ({@code 0x7E}). There are no infinities:
 * {@code 0x7F} and {@code 0xFF} are NaN. Both zeros exist.
 *
 * <p>{@link #fromFloat} rounds to nearest, ties to even, by arithmetic on the float's bits without
 * data-dependent branches (a quantizer's random low bits would mispredict them), and saturates: every
 * magnitude from 448 up, infinity included, gives ±448 (the satfinite conversion of accelerators; a value
 * above 464 would round to 480, which E4M3 does not have). NaN gives NaN.
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
    private static final int FLOAT_INFINITY_BITS = 0x7F80_0000;
    private static final int FLOAT_2PM6_BITS = Float.floatToRawIntBits(0x1p-6f);
    private static final int FLOAT_2P14_BITS = Float.floatToRawIntBits(0x1p14f);
    /** The 29 low mantissa bits a double has beyond a float's 23. */
    private static final long DOUBLE_BELOW_FLOAT_MASK = (1L << 29) - 1;
    private static final float[] VALUES = values();

    private Fp8E4m3() {
    }

    /** {@code value} rounded to E4M3, to nearest with ties to even, saturating at ±448; NaN gives a NaN code of its sign. */
    static byte fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 24) & 0x80;
        int abs = bits & 0x7FFF_FFFF;
        // Normal (2^-6 up): round the float's bits at the 3rd mantissa bit, ties to even (add just under half, plus
        // the kept LSB), then rebias the exponent from 127 to 7; a carry out of the mantissa steps the exponent.
        int normal = ((abs + 0x7_FFFF + ((abs >>> 20) & 1)) >>> 20) - ((127 - 7) << 3);
        // Below 2^-6: float addition rounds to a multiple of 2^-9, the ulp of 2^14, ties to even; the bits above
        // 2^14's are the count of 2^-9 (0-8, 8 being the smallest normal's code), float subnormals giving 0.
        int subnormal = Float.floatToRawIntBits(Float.intBitsToFloat(abs) + 0x1p14f) - FLOAT_2P14_BITS;
        int code = abs < FLOAT_2PM6_BITS ? subnormal : normal;
        code = abs >= FLOAT_448_BITS ? MAX_CODE : code; // saturate, infinity included
        code = abs > FLOAT_INFINITY_BITS ? NAN_CODE : code;
        return (byte) (sign | code);
    }

    /**
     * {@code value} rounded to E4M3 as {@link #fromFloat} rounds a float: correctly, with one rounding. The
     * double is narrowed to float's 24 bits rounding to odd (truncated, the last kept bit set when any dropped
     * bit is), branch-free on its bits; below the float normals every value gives zero anyway.
     */
    static byte fromDouble(double value) {
        long bits = Double.doubleToRawLongBits(value);
        long dropped = bits & DOUBLE_BELOW_FLOAT_MASK;
        long odd = (bits & ~DOUBLE_BELOW_FLOAT_MASK) | ((dropped + DOUBLE_BELOW_FLOAT_MASK) & (DOUBLE_BELOW_FLOAT_MASK + 1));
        return fromFloat((float) Double.longBitsToDouble(odd));
    }

    /** The value of {@code code}: exact, NaN for {@code 0x7F} and {@code 0xFF}. */
    static float toFloat(byte code) {
        return VALUES[code & 0xFF];
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
