package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

/**
 * Real-shaped KV for codec tests and measurements: Gaussian values whose scale differs per plane, layer
 * and channel (log-normal, as models' K and V channels do), converted to the layout's dtype with
 * round-to-nearest-even, written {@code [plane][layer][token][channel]} little-endian. Deterministic per
 * seed.
 */
final class GaussianKvBytes {

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GaussianKvBytes() {
    }

    /** Fills {@code chunk}, whole tokens of {@code layout}, with Gaussian KV drawn from {@code seed}. */
    static void fill(MemorySegment chunk, KvLayout layout, long seed) {
        Random random = new Random(seed);
        int channels = layout.tokenDim();
        int rows = layout.planes() * layout.numLayers();
        float[] scales = new float[rows * channels];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = (float) Math.exp(0.75 * random.nextGaussian());
        }
        int tokens = (int) (chunk.byteSize() / layout.bytesPerToken());
        long element = 0;
        for (int row = 0; row < rows; row++) {
            for (int t = 0; t < tokens; t++) {
                for (int c = 0; c < channels; c++) {
                    put(chunk, layout.dtype(), element++, (float) random.nextGaussian() * scales[row * channels + c]);
                }
            }
        }
    }

    /** Writes {@code value} as element {@code index} of {@code dtype}. */
    static void put(MemorySegment chunk, KvDtype dtype, long index, float value) {
        switch (dtype) {
            case FP32 -> chunk.set(U32, 4 * index, Float.floatToRawIntBits(value));
            case FP16 -> chunk.set(U16, 2 * index, Float.floatToFloat16(value));
            case BF16 -> chunk.set(U16, 2 * index, toBf16(value));
            case FP8_E4M3 -> chunk.set(ValueLayout.JAVA_BYTE, index, toE4m3(value));
            case FP8_E5M2 -> chunk.set(ValueLayout.JAVA_BYTE, index, toE5m2(value));
        }
    }

    /** The upper 16 bits of {@code value}, rounded to nearest even; NaN stays a quiet NaN. */
    static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) (bits >>> 16 | 0x0040);
        }
        return (short) ((bits + 0x7FFF + (bits >>> 16 & 1)) >>> 16);
    }

    /** {@code value} as fp8 e4m3 (bias 7, no infinities, saturating at 448), rounded to nearest even. */
    static byte toE4m3(float value) {
        if (Float.isNaN(value)) {
            return 0x7F;
        }
        int sign = (Float.floatToRawIntBits(value) >>> 31) << 7;
        float a = Math.abs(value);
        if (a >= 464f) { // halfway between 448, the largest finite, and 480
            return (byte) (sign | 0x7E);
        }
        if (a < 0x1p-6f) { // subnormal: m * 2^-9; m = 8 carries into the smallest normal
            return (byte) (sign | (int) Math.rint(a * 512));
        }
        int exponent = Math.getExponent(a);
        int mantissa = (int) Math.rint((a / Math.scalb(1f, exponent) - 1) * 8);
        if (mantissa == 8) {
            mantissa = 0;
            exponent++;
        }
        return (byte) (sign | (exponent + 7) << 3 | mantissa);
    }

    /** {@code value} as fp8 e5m2 (the upper byte of fp16), rounded to nearest even. */
    static byte toE5m2(float value) {
        int half = Float.floatToFloat16(value) & 0xFFFF;
        if (Float.isNaN(value)) {
            return (byte) (half >>> 8 | 0x02);
        }
        return (byte) ((half + 0x7F + (half >>> 8 & 1)) >>> 8);
    }
}
