package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.lmcache4j.api.KvLayout;

/**
 * The lossy {@code fp8-e4m3} codec (id 4): each element as an OCP FP8 E4M3 value ({@link Fp8E4m3}) times
 * one fp32 scale per plane and layer, the per-tensor scaling of engines' fp8 KV caches. Opt-in; a tier
 * marks chunks stored through it as lossy. Relative precision everywhere but the smallest elements, where
 * {@code int8} gives absolute precision per channel and token.
 *
 * <p>Encoding. For each (plane, layer) the scale is {@code max|x| / 448} over the chunk's tokens, put on a
 * grid on which decoding is exact (see {@link QuantScale}): rounded down to 20 significant bits, or, only
 * when {@code max|x| / 448 < 2^-121} (FP32 or BF16 chunks whose elements are all below about
 * {@code 1.7e-34}), rounded up to a multiple of {@code 2^-140}; 0 when the plane's layer is all zeros.
 * Each element becomes {@code v = E4M3(x / scale)}, rounded to nearest, ties to even, saturating at ±448,
 * as the real quotient rounds: the quotient is taken in double, and a real quotient that is not an E4M3
 * midpoint is at least {@code 2^-25} from one relatively (x has 24 significant bits, the scale 20, a
 * midpoint 5), far beyond double's {@code 2^-53}; {@link Fp8E4m3#fromDouble} then rounds once. Decoding
 * writes {@code v * scale}, an exact float, rounded to the dtype to nearest, ties to even. The bytes: a
 * {@link QuantizedHeader}, the scales ({@code [plane][layer]}), then the codes in the chunk's element
 * order.
 *
 * <p>Error bound, per element {@code x} decoded as {@code x'}, with {@code y = x / scale}:
 * {@code |x - x'| <= 2^-4 |x|} when {@code |y| >= 2^-6} (E4M3's normal range: half an ulp of 3 mantissa
 * bits), {@code |x - x'| <= 2^-10 scale} when {@code |y| < 2^-6} (its subnormals, spaced {@code 2^-9}),
 * each plus {@code |v*scale - x'|}, the rounding of the exact product to the output dtype (at most half its
 * ulp there; 0 for FP32). Saturation adds nothing: {@code |y| < 448 / (1 - 2^-19)}, so a saturated element
 * is off by less than {@code 2^-19 |x|}. Here {@code scale <= max|x| / 448} of the element's plane and layer
 * (below {@code 2^-121}: {@code < max|x|/448 + 2^-140}). {@code Fp8E4m3CodecTest} checks the bound element
 * by element on Gaussian and uniform chunks of every dtype and layout; {@code Fp8E4m3Test} checks the
 * rounding of all codes and their midpoints.
 *
 * <p>Ratio: one byte per element plus 4 bytes per plane and layer and 24 of header: 2x on FP16/BF16 input
 * less 4 bytes per layer and plane, 4x on FP32. Every chunk is encoded, as the {@code KvCodec} contract
 * has lossy codecs do, except one holding a NaN or an infinity: {@link #encode} returns -1 and the tier
 * stores it raw, exactly.
 */
public final class Fp8E4m3Codec extends QuantizingCodec {

    /** "LMF8" read as a little-endian int. */
    private static final int MAGIC = 0x38464D4C;
    private static final int SCALE_BITS = 20; // 24 float bits less the 4 of an E4M3 significand
    private static final int SCALE_MIN_EXPONENT = -140; // v * scale is then a multiple of 2^-149: E4M3 values are multiples of 2^-9

    /** For {@link java.util.ServiceLoader}. */
    public Fp8E4m3Codec() {
        super(MAGIC);
    }

    @Override
    public String name() {
        return "fp8-e4m3";
    }

    @Override
    public int id() {
        return 4;
    }

    @Override
    long scaleCount(KvLayout layout, int tokens) {
        return (long) layout.planes() * layout.numLayers();
    }

    @Override
    boolean quantize(KvLayout layout, int tokens, MemorySegment src, MemorySegment scales, MemorySegment codes) {
        int elements = tokens * layout.tokenDim();
        float[] values = new float[elements];
        short[] halves = new short[elements];
        byte[] v = new byte[elements];
        for (int block = 0; block < layout.planes() * layout.numLayers(); block++) {
            FloatElements.readRow(layout.dtype(), src, (long) block * elements * layout.dtype().sizeBytes(), values, halves, elements);
            int maxAbsBits = 0; // |x| as bits orders as |x| does, NaN above infinity above the rest
            for (int i = 0; i < elements; i++) {
                maxAbsBits = Math.max(maxAbsBits, Float.floatToRawIntBits(values[i]) & 0x7FFF_FFFF);
            }
            if (maxAbsBits >= 0x7F80_0000) {
                return false;
            }
            float scale = QuantScale.of(Float.intBitsToFloat(maxAbsBits), Fp8E4m3.MAX, SCALE_BITS, SCALE_MIN_EXPONENT);
            scales.setAtIndex(SCALE, block, scale);
            if (scale == 0f) {
                Arrays.fill(v, (byte) 0);
            } else {
                for (int i = 0; i < elements; i++) {
                    v[i] = Fp8E4m3.fromDouble(values[i] / (double) scale);
                }
            }
            MemorySegment.copy(v, 0, codes, ValueLayout.JAVA_BYTE, (long) block * elements, elements);
        }
        return true;
    }

    @Override
    void dequantize(KvLayout layout, int tokens, MemorySegment scales, MemorySegment codes, MemorySegment dst) {
        int elements = tokens * layout.tokenDim();
        float[] values = new float[elements];
        short[] halves = new short[elements];
        byte[] v = new byte[elements];
        for (int block = 0; block < layout.planes() * layout.numLayers(); block++) {
            float scale = scales.getAtIndex(SCALE, block);
            MemorySegment.copy(codes, ValueLayout.JAVA_BYTE, (long) block * elements, v, 0, elements);
            for (int i = 0; i < elements; i++) {
                values[i] = Fp8E4m3.toFloat(v[i]) * scale;
            }
            FloatElements.writeRow(layout.dtype(), values, halves, elements, dst, (long) block * elements * layout.dtype().sizeBytes());
        }
    }
}
