package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * the group is all zeros. Each element becomes {@code q = round-half-even(x / scale)} (of the real quotient,
 * ties included: see {@code code}) clamped to [-127, 127]; decoding
 * writes {@code q * scale}, an exact float, rounded to the dtype to nearest, ties to even. The bytes: a
 * {@link QuantizedHeader}, the scales (each layer's K channel scales, then each layer's V token scales),
 * then the codes in the chunk's element order.
 *
 * <p>Error bound, per element {@code x} decoded as {@code x'}:
 * {@code |x - x'| <= scale / 2 + |q*scale - x'|}, where the last term is the rounding of {@code q*scale}
 * to the output dtype, at most half its ulp there (0 for FP32: the product is exact and is written as is).
 * Proof: {@code max|x| / scale <= 127 / (1 - 2^-16) < 127.5}, so round-half-even never passes 127 and the
 * quotient's nearest integer {@code q} has {@code |x/scale - q| <= 1/2}. Here {@code scale <= max|x| / 127}
 * of the element's group (below {@code 2^-133}: {@code < max|x|/127 + 2^-149}). {@code Int8CodecTest}
 * checks the bound element by element on Gaussian and uniform chunks of every dtype and layout.
 *
 * <p>Ratio: one byte per element plus 4 bytes per scale and 24 of header: 2x on FP16/BF16 input less
 * {@code 4 * (tokenDim + tokens)} bytes per layer (1.95x for 256 tokens of a 2x64 head layout), 4x less the
 * same on FP32. Every chunk is encoded, as the {@code KvCodec} contract has lossy codecs do, even one of
 * a token or two, which the K channel scales make larger than raw (24 layers of 2x64 heads, BF16: 1 token
 * is 12,288 bytes raw and 18,552 encoded, 2 tokens 24,576 and 24,792, 3 tokens 36,864 and 31,032). A
 * chunk holding a NaN or an infinity is the exception: {@link #encode} returns -1 and the tier stores it
 * raw, exactly.
 */
public final class Int8Codec extends QuantizingCodec {

    /** "LMQ8" read as a little-endian int. */
    private static final int MAGIC = 0x38514D4C;
    private static final int CODE_MAX = 127;
    private static final int SCALE_BITS = 17; // 24 float bits less the 7 of |q| <= 127
    private static final int SCALE_MIN_EXPONENT = -149; // q * scale is then always a multiple of 2^-149
    private static final double TIE_WINDOW = 0.5 - 0x1p-30;

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
        Blocks blocks = new Blocks(layout, tokens);
        long scaleIndex = 0;
        if (!layout.mla()) {
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                blocks.read(src, layer);
                if (!blocks.quantizePerChannel(scales, scaleIndex)) {
                    return false;
                }
                blocks.write(codes, layer);
                scaleIndex += layout.tokenDim();
            }
        }
        int perTokenPlane = layout.mla() ? 0 : 1;
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            int block = perTokenPlane * layout.numLayers() + layer;
            blocks.read(src, block);
            if (!blocks.quantizePerToken(scales, scaleIndex)) {
                return false;
            }
            blocks.write(codes, block);
            scaleIndex += tokens;
        }
        return true;
    }

    @Override
    void dequantize(KvLayout layout, int tokens, MemorySegment scales, MemorySegment codes, MemorySegment dst) {
        int dim = layout.tokenDim();
        int elements = tokens * dim;
        float[] values = new float[elements];
        short[] halves = new short[elements];
        byte[] q = new byte[elements];
        float[] groupScales = new float[Math.max(dim, tokens)];
        long scaleIndex = 0;
        for (int block = 0; block < layout.planes() * layout.numLayers(); block++) {
            boolean perChannel = !layout.mla() && block < layout.numLayers();
            int groups = perChannel ? dim : tokens;
            MemorySegment.copy(scales, SCALE, scaleIndex * Float.BYTES, groupScales, 0, groups);
            scaleIndex += groups;
            MemorySegment.copy(codes, ValueLayout.JAVA_BYTE, (long) block * elements, q, 0, elements);
            for (int token = 0, i = 0; token < tokens; token++) {
                for (int c = 0; c < dim; c++, i++) {
                    values[i] = q[i] * groupScales[perChannel ? c : token];
                }
            }
            FloatElements.writeRow(layout.dtype(), values, halves, elements, dst, (long) block * elements * layout.dtype().sizeBytes());
        }
    }

    /**
     * The code of {@code x}: {@code round-half-even(x / scale)} clamped to [-127, 127], where {@code inverse}
     * is {@code 1.0 / scale} in double. The product {@code p = x * inverse} is within {@code 2^-45} of
     * {@code x / scale} (whose magnitude is below 128), and {@code x / scale}, a 24-bit over a 17-bit
     * significand, is either a half-integer or at least {@code 2^-26} from every half-integer: so {@code p}
     * rounds as the real quotient does except next to a half-integer, where only an exact tie can be and the
     * quotient is divided out to round it to even. A zero scale (an all-zero group) gives NaN, cast to 0.
     */
    private static byte code(float x, double inverse, float scale) {
        double p = x * inverse;
        double q = Math.rint(p);
        if (Math.abs(p - q) > TIE_WINDOW) {
            q = Math.rint(x / (double) scale);
        }
        return (byte) Math.max(-CODE_MAX, Math.min(CODE_MAX, (int) q));
    }

    private static float scaleFor(int maxAbsBits) {
        return QuantScale.of(Float.intBitsToFloat(maxAbsBits), CODE_MAX, SCALE_BITS, SCALE_MIN_EXPONENT);
    }

    /**
     * One encode call's buffers for a (plane, layer) block of the chunk, {@code tokens x tokenDim} elements
     * contiguous in it: read with one bulk copy, quantized in plain loops, written with one.
     */
    private static final class Blocks {
        private final KvLayout layout;
        private final int tokens;
        private final int dim;
        private final float[] values;
        private final short[] halves;
        private final byte[] q;

        Blocks(KvLayout layout, int tokens) {
            this.layout = layout;
            this.tokens = tokens;
            this.dim = layout.tokenDim();
            this.values = new float[tokens * dim];
            this.halves = new short[tokens * dim];
            this.q = new byte[tokens * dim];
        }

        void read(MemorySegment src, int block) {
            FloatElements.readRow(layout.dtype(), src, (long) block * values.length * layout.dtype().sizeBytes(), values, halves, values.length);
        }

        void write(MemorySegment codes, int block) {
            MemorySegment.copy(q, 0, codes, ValueLayout.JAVA_BYTE, (long) block * q.length, q.length);
        }

        /** K: a scale per channel over the tokens; false on a non-finite element. */
        boolean quantizePerChannel(MemorySegment scales, long scaleIndex) {
            int[] maxAbsBits = new int[dim]; // |x| as bits orders as |x| does, NaN above infinity above the rest
            for (int token = 0, i = 0; token < tokens; token++) {
                for (int c = 0; c < dim; c++, i++) {
                    maxAbsBits[c] = Math.max(maxAbsBits[c], Float.floatToRawIntBits(values[i]) & 0x7FFF_FFFF);
                }
            }
            float[] channelScales = new float[dim];
            double[] inverses = new double[dim];
            for (int c = 0; c < dim; c++) {
                if (maxAbsBits[c] >= 0x7F80_0000) {
                    return false;
                }
                channelScales[c] = scaleFor(maxAbsBits[c]);
                inverses[c] = 1.0 / channelScales[c];
            }
            MemorySegment.copy(channelScales, 0, scales, SCALE, scaleIndex * Float.BYTES, dim);
            for (int token = 0, i = 0; token < tokens; token++) {
                for (int c = 0; c < dim; c++, i++) {
                    q[i] = code(values[i], inverses[c], channelScales[c]);
                }
            }
            return true;
        }

        /** V or MLA's latent: a scale per token over its row; false on a non-finite element. */
        boolean quantizePerToken(MemorySegment scales, long scaleIndex) {
            float[] tokenScales = new float[tokens];
            for (int token = 0, i = 0; token < tokens; token++) {
                int maxAbsBits = 0;
                for (int c = 0; c < dim; c++) {
                    maxAbsBits = Math.max(maxAbsBits, Float.floatToRawIntBits(values[i + c]) & 0x7FFF_FFFF);
                }
                if (maxAbsBits >= 0x7F80_0000) {
                    return false;
                }
                float scale = scaleFor(maxAbsBits);
                tokenScales[token] = scale;
                double inverse = 1.0 / scale;
                for (int c = 0; c < dim; c++, i++) {
                    q[i] = code(values[i], inverse, scale);
                }
            }
            MemorySegment.copy(tokenScales, 0, scales, SCALE, scaleIndex * Float.BYTES, tokens);
            return true;
        }
    }
}
