package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.lmcache4j.api.KvDtype;

/**
 * Reads and writes the elements of FP32, FP16 and BF16 chunk bytes as floats, for the quantizing codecs.
 *
 * <p>Elements are little-endian, as {@link org.lmcache4j.api.spi.KvCodec} defines chunk bytes. Reading is
 * exact (every FP16 and BF16 value is a float). Writing rounds the float to the dtype to nearest, ties to
 * even: FP16 by {@link Float#floatToFloat16}, BF16 by adding {@code 0x7FFF} plus the kept LSB to the float's
 * bits before dropping the low 16 (a carry past the largest finite BF16 gives infinity, as rounding
 * should), a NaN stays a NaN (made quiet, sign kept). Rows go through a {@code float[]} so the per-dtype
 * switch sits outside each inner loop.
 */
final class FloatElements {

    private static final ValueLayout.OfFloat FP32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private FloatElements() {
    }

    /** Whether {@code dtype} is one these methods read and write: FP32, FP16 or BF16. */
    static boolean isFloat(KvDtype dtype) {
        return dtype == KvDtype.FP32 || dtype == KvDtype.FP16 || dtype == KvDtype.BF16;
    }

    /** The element at {@code byteOffset} of {@code seg} as a float (exact). */
    static float read(KvDtype dtype, MemorySegment seg, long byteOffset) {
        return switch (dtype) {
            case FP32 -> seg.get(FP32, byteOffset);
            case FP16 -> Float.float16ToFloat(seg.get(HALF, byteOffset));
            case BF16 -> bf16ToFloat(seg.get(HALF, byteOffset));
            default -> throw unsupported(dtype);
        };
    }

    /** Writes {@code value} rounded to {@code dtype} (to nearest, ties to even) at {@code byteOffset} of {@code seg}. */
    static void write(KvDtype dtype, MemorySegment seg, long byteOffset, float value) {
        switch (dtype) {
            case FP32 -> seg.set(FP32, byteOffset, value);
            case FP16 -> seg.set(HALF, byteOffset, Float.floatToFloat16(value));
            case BF16 -> seg.set(HALF, byteOffset, floatToBf16(value));
            default -> throw unsupported(dtype);
        }
    }

    /**
     * Reads {@code count} consecutive elements from {@code byteOffset} of {@code seg} into {@code dst[0..count)};
     * {@code halves} (at least {@code count} long) holds 16-bit elements on the way: one bulk copy out of the
     * segment, then a plain loop the JIT can vectorize, instead of a checked segment access per element.
     */
    static void readRow(KvDtype dtype, MemorySegment seg, long byteOffset, float[] dst, short[] halves, int count) {
        switch (dtype) {
            case FP32 -> MemorySegment.copy(seg, FP32, byteOffset, dst, 0, count);
            case FP16 -> {
                MemorySegment.copy(seg, HALF, byteOffset, halves, 0, count);
                for (int i = 0; i < count; i++) {
                    dst[i] = Float.float16ToFloat(halves[i]);
                }
            }
            case BF16 -> {
                MemorySegment.copy(seg, HALF, byteOffset, halves, 0, count);
                for (int i = 0; i < count; i++) {
                    dst[i] = bf16ToFloat(halves[i]);
                }
            }
            default -> throw unsupported(dtype);
        }
    }

    /**
     * Writes {@code src[0..count)}, each rounded to {@code dtype}, as consecutive elements from {@code byteOffset};
     * {@code halves} (at least {@code count} long) holds 16-bit elements on the way, as in {@link #readRow}.
     */
    static void writeRow(KvDtype dtype, float[] src, short[] halves, int count, MemorySegment seg, long byteOffset) {
        switch (dtype) {
            case FP32 -> MemorySegment.copy(src, 0, seg, FP32, byteOffset, count);
            case FP16 -> {
                for (int i = 0; i < count; i++) {
                    halves[i] = Float.floatToFloat16(src[i]);
                }
                MemorySegment.copy(halves, 0, seg, HALF, byteOffset, count);
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    halves[i] = floatToBf16(src[i]);
                }
                MemorySegment.copy(halves, 0, seg, HALF, byteOffset, count);
            }
            default -> throw unsupported(dtype);
        }
    }

    /** The float whose high 16 bits are {@code bits}: BF16 is a float with 8 mantissa bits. */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** {@code value} rounded to BF16, to nearest, ties to even; a NaN stays a NaN of the same sign. */
    static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 0x0040); // quiet bit set: a payload only in the low 16 bits must not become infinity
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The error for a dtype these methods do not handle, naming it. */
    static IllegalArgumentException unsupported(KvDtype dtype) {
        return new IllegalArgumentException("dtype: " + dtype + " (expected: FP32, FP16 or BF16; a quantizing codec needs float input)");
    }
}
