package org.lmcache4j.examples.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its name, shape ({@code dims[0]} is the innermost, contiguous dimension, as
 * ggml's {@code ne[0]}), element type, and a view of its bytes. A "row" is {@code dims[0]} consecutive
 * elements, so a llama.cpp weight {@code [ne0 = in, ne1 = out]} has one row per output.
 */
public final class GgufTensor {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final long[] dims;
    private final GgmlType type;
    private final MemorySegment data;

    GgufTensor(String name, long[] dims, GgmlType type, MemorySegment data) {
        this.name = name;
        this.dims = dims.clone();
        this.type = type;
        this.data = data;
    }

    /** The tensor's bytes, as stored (a view into the file's mapping). */
    MemorySegment data() {
        return data;
    }

    public String name() {
        return name;
    }

    /** The shape, innermost dimension first. */
    public long[] dims() {
        return dims.clone();
    }

    public GgmlType type() {
        return type;
    }

    /** Elements in the tensor. */
    public long elements() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** Elements of one row ({@code dims[0]}). */
    public int rowLength() {
        return Math.toIntExact(dims[0]);
    }

    /** Number of rows: every dimension but the first, multiplied. */
    public long rows() {
        return elements() / dims[0];
    }

    /**
     * Converts row {@code row} to floats at {@code dst[dstOffset..]}.
     *
     * @throws IllegalArgumentException when the type cannot be decoded or the row is out of range
     */
    public void readRow(long row, float[] dst, int dstOffset) {
        if (row < 0 || row >= rows()) {
            throw new IllegalArgumentException("row: " + row + " (expected: 0 to " + (rows() - 1) + " in tensor " + name + ")");
        }
        int n = rowLength();
        long at = type.bytes(row * n);
        switch (type) {
            case F32 -> MemorySegment.copy(data, F32, at, dst, dstOffset, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Float.float16ToFloat(data.get(I16, at + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + i] = Float.intBitsToFloat((data.get(I16, at + 2L * i) & 0xffff) << 16);
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long block = at + 34L * b;
                    float scale = Float.float16ToFloat(data.get(I16, block));
                    for (int i = 0; i < 32; i++) {
                        dst[dstOffset + 32 * b + i] = scale * data.get(ValueLayout.JAVA_BYTE, block + 2 + i);
                    }
                }
            }
            default -> throw new IllegalArgumentException("tensor " + name + ": type " + type
                    + " (expected: F32, F16, BF16 or Q8_0; convert the model with llama.cpp's llama-quantize)");
        }
    }

    /** All elements as floats, row after row. */
    public float[] readAll() {
        long n = elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor " + name + ": " + n + " elements (expected: < 2^31 to read at once)");
        }
        float[] all = new float[(int) n];
        for (long r = 0; r < rows(); r++) {
            readRow(r, all, (int) (r * rowLength()));
        }
        return all;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
