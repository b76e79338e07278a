package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

/**
 * The lossy {@code int8} codec (id 3): symmetric 8-bit quantization with an fp32 scale per K channel and
 * per V token, the grouping KV quantization papers (KIVI, KVQuant) found to keep attention accurate: K has
 * outlier channels, V outlier tokens. Opt-in; a tier marks chunks stored through it as lossy.
 *
 * <p>Encoding. For each layer, K gets one scale per channel (each of the {@code numKvHeads * headDim}
 * elements of a row) over the chunk's tokens, V and MLA's latent plane one per token over its row. A
 * group's scale is {@code max|x| / 127}, put on a grid on which decoding is exact (see {@link QuantScale}):
 * rounded down to 17 significant bits, or, only when {@code max|x| / 127 < 2^-133} (FP32 or BF16 chunks
 * whose elements are all below about {@code 1.2e-38}), rounded up to a multiple of {@code 2^-149}; 0 when
 * the group is all zeros. Each element becomes {@code q = round-half-even(x / scale)} (the quotient in
 * double, which lands on a half-integer exactly when the real one does) clamped to [-127, 127]; decoding
 * writes {@code q * scale}, an exact float, rounded to the dtype to nearest, ties to even. The bytes: a
 * {@link QuantizedHeader}, the scales (each layer's K channel scales, then each layer's V token scales),
 * then the codes in the chunk's element order.
 *
 * <p>Error bound, per element {@code x} decoded as {@code x'}:
 * {@code |x - x'| <= scale / 2 + |q*scale - x'|}, where the last term is the rounding of {@code q*scale}
 * to the output dtype, at most half its ulp there (0 for FP32: the product is exact and is written as is).
 * Proof: {@code max|x| / scale <= 127 * (1 + 2^-16) < 127.5}, so round-half-even never passes 127 and the
 * quotient's nearest integer {@code q} has {@code |x/scale - q| <= 1/2}. Here {@code scale <= max|x| / 127}
 * of the element's group (below {@code 2^-133}: {@code < max|x|/127 + 2^-149}). {@code Int8CodecTest}
 * checks the bound element by element on Gaussian and uniform chunks of every dtype and layout.
 *
 * <p>Ratio: one byte per element plus 4 bytes per scale and 24 of header: 2x on FP16/BF16 input less
 * {@code 4 * (tokenDim + tokens)} bytes per layer (1.95x for 256 tokens of a 2x64 head layout), 4x less the
 * same on FP32. Every chunk is encoded (a lossy codec's encoding is its product) except one holding a NaN
 * or an infinity, for which {@link #encode} returns -1 and the tier stores it raw, exactly.
 */
public final class Int8Codec extends QuantizingCodec {

    /** "LMQ8" read as a little-endian int. */
    private static final int MAGIC = 0x38514D4C;
    private static final int CODE_MAX = 127;
    private static final int SCALE_BITS = 17; // 24 float bits less the 7 of |q| <= 127
    private static final int SCALE_MIN_EXPONENT = -149; // q * scale is then always a multiple of 2^-149

    /** For {@link java.util.ServiceLoader}. */
    public Int8Codec() {
        super(MAGIC);
    }

    @Override
    public String name() {
        return "int8";
    }

    @Override
    public int id() {
        return 3;
    }

    @Override
    long scaleCount(KvLayout layout, int tokens) {
        long perLayer = layout.mla() ? tokens : (long) layout.tokenDim() + tokens;
        return perLayer * layout.numLayers();
    }

    @Override
    boolean quantize(KvLayout layout, int tokens, MemorySegment src, MemorySegment scales, MemorySegment codes) {
        Rows rows = new Rows(layout, tokens, src, codes);
        long scaleIndex = 0;
        if (!layout.mla()) {
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                if (!rows.quantizePerChannel(layer, scales, scaleIndex)) {
                    return false;
                }
                scaleIndex += layout.tokenDim();
            }
        }
        int perTokenPlane = layout.mla() ? 0 : 1;
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            if (!rows.quantizePerToken(perTokenPlane, layer, scales, scaleIndex)) {
                return false;
            }
            scaleIndex += tokens;
        }
        return true;
    }

    @Override
    void dequantize(KvLayout layout, int tokens, MemorySegment scales, MemorySegment codes, MemorySegment dst) {
        int dim = layout.tokenDim();
        KvDtype dtype = layout.dtype();
        float[] values = new float[dim];
        byte[] q = new byte[dim];
        float[] channelScales = new float[dim];
        long scaleIndex = 0;
        long row = 0;
        if (!layout.mla()) {
            for (int layer = 0; layer < layout.numLayers(); layer++, scaleIndex += dim) {
                MemorySegment.copy(scales, SCALE, scaleIndex * Float.BYTES, channelScales, 0, dim);
                for (int token = 0; token < tokens; token++, row++) {
                    MemorySegment.copy(codes, ValueLayout.JAVA_BYTE, row * dim, q, 0, dim);
                    for (int c = 0; c < dim; c++) {
                        values[c] = q[c] * channelScales[c];
                    }
                    FloatElements.writeRow(dtype, values, dim, dst, row * layout.rowBytes());
                }
            }
        }
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            for (int token = 0; token < tokens; token++, row++, scaleIndex++) {
                float scale = scales.getAtIndex(SCALE, scaleIndex);
                MemorySegment.copy(codes, ValueLayout.JAVA_BYTE, row * dim, q, 0, dim);
                for (int c = 0; c < dim; c++) {
                    values[c] = q[c] * scale;
                }
                FloatElements.writeRow(dtype, values, dim, dst, row * layout.rowBytes());
            }
        }
    }

    /** The code of {@code x} under {@code scale}; 0 for a zero scale (whose group is all zeros: 0/0 is NaN, cast to 0). */
    private static byte code(float x, float scale) {
        int q = (int) Math.rint(x / (double) scale);
        return (byte) Math.max(-CODE_MAX, Math.min(CODE_MAX, q));
    }

    private static float scaleFor(int maxAbsBits) {
        return QuantScale.of(Float.intBitsToFloat(maxAbsBits), CODE_MAX, SCALE_BITS, SCALE_MIN_EXPONENT);
    }

    /** One encode call's row buffers over {@code src} and {@code codes}; rows are numbered in chunk order. */
    private static final class Rows {
        private final KvLayout layout;
        private final int tokens;
        private final int dim;
        private final MemorySegment src;
        private final MemorySegment codes;
        private final float[] values;
        private final byte[] q;

        Rows(KvLayout layout, int tokens, MemorySegment src, MemorySegment codes) {
            this.layout = layout;
            this.tokens = tokens;
            this.dim = layout.tokenDim();
            this.src = src;
            this.codes = codes;
            this.values = new float[dim];
            this.q = new byte[dim];
        }

        /** Plane 0 (K) of {@code layer}: a scale per channel over the tokens; false on a non-finite element. */
        boolean quantizePerChannel(int layer, MemorySegment scales, long scaleIndex) {
            long firstRow = (long) layer * tokens;
            int[] maxAbsBits = new int[dim]; // |x| as bits orders as |x| does, NaN above infinity above the rest
            for (int token = 0; token < tokens; token++) {
                read(firstRow + token);
                for (int c = 0; c < dim; c++) {
                    maxAbsBits[c] = Math.max(maxAbsBits[c], Float.floatToRawIntBits(values[c]) & 0x7FFF_FFFF);
                }
            }
            float[] channelScales = new float[dim];
            for (int c = 0; c < dim; c++) {
                if (maxAbsBits[c] >= 0x7F80_0000) {
                    return false;
                }
                channelScales[c] = scaleFor(maxAbsBits[c]);
            }
            MemorySegment.copy(channelScales, 0, scales, SCALE, scaleIndex * Float.BYTES, dim);
            for (int token = 0; token < tokens; token++) {
                read(firstRow + token);
                for (int c = 0; c < dim; c++) {
                    q[c] = code(values[c], channelScales[c]);
                }
                write(firstRow + token);
            }
            return true;
        }

        /** {@code plane} of {@code layer}: a scale per token over its row; false on a non-finite element. */
        boolean quantizePerToken(int plane, int layer, MemorySegment scales, long scaleIndex) {
            long firstRow = ((long) plane * layout.numLayers() + layer) * tokens;
            for (int token = 0; token < tokens; token++) {
                read(firstRow + token);
                int maxAbsBits = 0;
                for (int c = 0; c < dim; c++) {
                    maxAbsBits = Math.max(maxAbsBits, Float.floatToRawIntBits(values[c]) & 0x7FFF_FFFF);
                }
                if (maxAbsBits >= 0x7F80_0000) {
                    return false;
                }
                float scale = scaleFor(maxAbsBits);
                scales.setAtIndex(SCALE, scaleIndex + token, scale);
                for (int c = 0; c < dim; c++) {
                    q[c] = code(values[c], scale);
                }
                write(firstRow + token);
            }
            return true;
        }

        private void read(long row) {
            FloatElements.readRow(layout.dtype(), src, row * layout.rowBytes(), values, dim);
        }

        private void write(long row) {
            MemorySegment.copy(q, 0, codes, ValueLayout.JAVA_BYTE, row * dim, dim);
        }
    }
}
