package org.lmcache4j.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

/**
 * Chunk bytes for the codec tests, read and written here with the dtype formulas themselves (not through
 * {@link FloatElements}), so a test compares the codecs against an independent view of the elements.
 */
final class TestChunks {

    /** How an element's value is drawn. */
    enum Distribution {
        GAUSSIAN, UNIFORM
    }

    /** A value for each element position. */
    @FunctionalInterface
    interface ElementValue {
        float at(int plane, int layer, int token, int channel);
    }

    private static final ValueLayout.OfFloat FP32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestChunks() {
    }

    /** A zeroed native chunk of {@code tokens} tokens. */
    static MemorySegment allocate(KvLayout layout, int tokens) {
        return Arena.ofAuto().allocate(Math.max(1, layout.chunkBytes(tokens))).asSlice(0, layout.chunkBytes(tokens));
    }

    /**
     * A chunk of random values: standard normal or uniform on [-1, 1), times a magnitude per layer
     * (1, 100, 0.01, 1, ...) so scales of different sizes meet in one chunk.
     */
    static MemorySegment random(KvLayout layout, int tokens, Distribution distribution, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] magnitudes = {1, 100, 0.01};
        return filled(layout, tokens, (plane, layer, token, channel) -> {
            double unit = distribution == Distribution.GAUSSIAN ? gaussian(random) : random.nextDouble(-1, 1);
            return (float) (unit * magnitudes[layer % magnitudes.length]);
        });
    }

    /** A chunk whose element at each position is {@code value} there, rounded to the dtype. */
    static MemorySegment filled(KvLayout layout, int tokens, ElementValue value) {
        MemorySegment chunk = allocate(layout, tokens);
        for (int plane = 0; plane < layout.planes(); plane++) {
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                for (int token = 0; token < tokens; token++) {
                    for (int c = 0; c < layout.tokenDim(); c++) {
                        set(layout, tokens, chunk, plane, layer, token, c, value.at(plane, layer, token, c));
                    }
                }
            }
        }
        return chunk;
    }

    /** Element index of a position: {@code [plane][layer][token][channel]}. */
    static long index(KvLayout layout, int tokens, int plane, int layer, int token, int channel) {
        return (((long) plane * layout.numLayers() + layer) * tokens + token) * layout.tokenDim() + channel;
    }

    static float get(KvLayout layout, MemorySegment chunk, long index) {
        return switch (layout.dtype()) {
            case FP32 -> chunk.getAtIndex(FP32, index);
            case FP16 -> Float.float16ToFloat(chunk.getAtIndex(HALF, index));
            case BF16 -> Float.intBitsToFloat(chunk.getAtIndex(HALF, index) << 16);
            default -> throw new IllegalArgumentException(layout.dtype().toString());
        };
    }

    static float get(KvLayout layout, int tokens, MemorySegment chunk, int plane, int layer, int token, int channel) {
        return get(layout, chunk, index(layout, tokens, plane, layer, token, channel));
    }

    /** Writes {@code value} rounded to the dtype (BF16: truncated; any BF16 value is fine as test input). */
    static void set(KvLayout layout, int tokens, MemorySegment chunk, int plane, int layer, int token, int channel, float value) {
        long i = index(layout, tokens, plane, layer, token, channel);
        switch (layout.dtype()) {
            case FP32 -> chunk.setAtIndex(FP32, i, value);
            case FP16 -> chunk.setAtIndex(HALF, i, Float.floatToFloat16(value));
            case BF16 -> chunk.setAtIndex(HALF, i, (short) (Float.floatToRawIntBits(value) >>> 16));
            default -> throw new IllegalArgumentException(layout.dtype().toString());
        }
    }

    /**
     * Half the spacing of {@code dtype}'s values around {@code v}: the most that rounding a real to the value
     * {@code v} can have moved it (spacing of {@code v}'s binade, or of the subnormals below the normals).
     */
    static double halfUlp(KvDtype dtype, float v) {
        double a = Math.abs(v);
        return switch (dtype) {
            case FP32 -> Math.ulp(v) / 2;
            case FP16 -> a < 0x1p-14 ? 0x1p-25 : Math.scalb(1.0, Math.getExponent(v) - 11);
            case BF16 -> a < 0x1p-126 ? 0x1p-134 : Math.scalb(1.0, Math.getExponent(v) - 8);
            default -> throw new IllegalArgumentException(dtype.toString());
        };
    }

    private static double gaussian(SplittableRandom random) {
        double u = 1 - random.nextDouble(); // (0, 1]
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    /**
     * A chunk mixing a dtype's extremes and subnormals in every group ({@code mixed}) and one of tiny values only
     * ({@code tiny}: a group whose scale rounds up), 2 layers x 4 elements x 4 tokens of {@code layout}.
     */
    record Extremes(KvLayout layout, int tokens, MemorySegment mixed, MemorySegment tiny) {
    }

    /** {@link Extremes} for FP32, FP16 and BF16. */
    static java.util.List<Extremes> extremes() {
        float[] fp32 = {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -0x1p-140f, 0x1.8p-149f, 3e-39f, 1f, -0f};
        float[] fp16 = {65504f, -65504f, 0x1p-24f, -0x1p-24f, 0x1p-14f, 1f, -0f, 0.5f};
        float[] bf16 = {0x1.FEp127f, -0x1.FEp127f, 0x1p-133f, -0x1p-126f, 0x1.2p-130f, 1f, -0f, 0x1p-140f};
        java.util.List<Extremes> out = new java.util.ArrayList<>();
        for (KvDtype dtype : new KvDtype[] {KvDtype.FP32, KvDtype.FP16, KvDtype.BF16}) {
            float[] values = dtype == KvDtype.FP32 ? fp32 : dtype == KvDtype.FP16 ? fp16 : bf16;
            KvLayout layout = KvLayout.standard(2, 1, 4, dtype);
            int tokens = 4;
            out.add(new Extremes(layout, tokens,
                    filled(layout, tokens, (plane, layer, token, c) -> values[(plane * 3 + layer * 5 + token + c) % values.length]),
                    filled(layout, tokens, (plane, layer, token, c) -> values[2 + (token + c) % 2] * (1 + c) * 0.25f)));
        }
        return out;
    }
}
