package org.lmcache4j.codec;

/**
 * Chooses a quantizer's fp32 scale so that decoding is one exact product and one rounding.
 *
 * <p>A decoder computes {@code code * scale} in float and rounds that to the chunk's dtype. When the code
 * has {@code c} significant bits, the scale at most {@code 24 - c}, and the product is a multiple of
 * {@code 2^-149} (the float grid below {@link Float#MIN_NORMAL}), the float product is exact: the decoded
 * element is the correctly rounded value of {@code code * scale}, with no second rounding on the way. So
 * the scale {@code max / codeMax} is put on the grid of multiples of {@code 2^max(minExponent, e - bits + 1)}
 * ({@code e} its binary exponent): rounded down where that grid is {@code bits} significant bits (it
 * loses less than {@code 2^-(bits-1)} relatively, so {@code max / scale < codeMax / (1 - 2^-(bits-1))},
 * well inside the top code's rounding interval), rounded up below (the scale of a chunk whose largest
 * element is within a few orders of magnitude of the float minimum, which rounding down would leave with
 * few bits or none). {@code QuantScaleTest} checks the exactness over the float range.
 */
final class QuantScale {

    private QuantScale() {
    }

    /**
     * The scale for elements up to {@code maxAbs} coded as values up to {@code codeMax}: 0 when
     * {@code maxAbs} is 0, else a positive float with at most {@code bits} significant bits and a multiple of
     * {@code 2^minExponent}, at most {@code maxAbs / codeMax} when that is at least
     * {@code 2^(minExponent + bits - 1)}, else the least such value at least {@code maxAbs / codeMax}.
     *
     * @param maxAbs      the largest magnitude, finite and &gt;= 0
     * @param codeMax     the largest code magnitude (127, 448)
     * @param bits        significant bits the scale may have (24 minus the code's)
     * @param minExponent the finest grid the scale may sit on ({@code -149} minus the code's finest exponent)
     */
    static float of(float maxAbs, double codeMax, int bits, int minExponent) {
        if (maxAbs == 0f) {
            return 0f;
        }
        double exact = maxAbs / codeMax;
        int stepExponent = Math.getExponent(exact) - bits + 1;
        if (stepExponent >= minExponent) {
            return (float) Math.scalb(Math.floor(Math.scalb(exact, -stepExponent)), stepExponent);
        }
        return (float) Math.scalb(Math.ceil(Math.scalb(exact, -minExponent)), minExponent);
    }
}
