package org.lmcache4j.examples.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file: metadata, tensor infos, then each tensor's data at a 32-byte aligned offset.
 * Tensor data is produced row by row by a {@link RowSource} and encoded as F32, F16, BF16 or Q8_0, so a
 * model far larger than the heap can be written.
 */
public final class GgufWriter {

    /** Produces the floats of one row ({@code dims[0]} elements) of a tensor. */
    @FunctionalInterface
    public interface RowSource {
        void row(long row, float[] dst);
    }

    private record Spec(String name, long[] dims, GgmlType type, RowSource rows) {
        long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }
    }

    private static final int BUFFER_BYTES = 1 << 20;

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Spec> tensors = new ArrayList<>();

    /** Adds (or replaces) a metadata entry. */
    public GgufWriter put(String key, GgufValue value) {
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds a tensor of shape {@code dims} (innermost first) stored as {@code type}.
     *
     * @throws IllegalArgumentException for a type this writer cannot encode or a row length that does not
     *                                  fit its blocks
     */
    public GgufWriter tensor(String name, long[] dims, GgmlType type, RowSource rows) {
        if (type != GgmlType.F32 && type != GgmlType.F16 && type != GgmlType.BF16 && type != GgmlType.Q8_0) {
            throw new IllegalArgumentException("type: " + type + " (expected: F32, F16, BF16 or Q8_0 for tensor " + name + ")");
        }
        if (dims.length < 1 || dims[0] % type.blockElements() != 0 || dims[0] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("dims[0] of " + name + ": " + (dims.length == 0 ? "none" : dims[0])
                    + " (expected: a multiple of " + type.blockElements() + ")");
        }
        tensors.add(new Spec(name, dims.clone(), type, rows));
        return this;
    }

    /** Writes the file to {@code path}, replacing what is there. */
    public void write(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            Sink out = new Sink(ch, buf);
            out.i32(GgufFile.MAGIC);
            out.i32(3);
            out.i64(tensors.size());
            out.i64(metadata.size() + (metadata.containsKey("general.alignment") ? 0 : 1));
            if (!metadata.containsKey("general.alignment")) {
                out.string("general.alignment");
                writeValue(out, GgufValue.u32(GgufFile.DEFAULT_ALIGNMENT));
            }
            for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
                out.string(e.getKey());
                writeValue(out, e.getValue());
            }
            int alignment = (int) metadata.getOrDefault("general.alignment", GgufValue.u32(GgufFile.DEFAULT_ALIGNMENT)).asLong();
            long offset = 0;
            for (Spec t : tensors) {
                out.string(t.name);
                out.i32(t.dims.length);
                for (long d : t.dims) {
                    out.i64(d);
                }
                out.i32(t.type.id());
                out.i64(offset);
                offset = GgufFile.align(offset + t.type.bytes(t.elements()), alignment);
            }
            out.pad(alignment);
            for (Spec t : tensors) {
                writeData(out, t);
                out.pad(alignment);
            }
            out.flush();
        }
    }

    private static void writeData(Sink out, Spec t) throws IOException {
        int n = (int) t.dims[0];
        float[] row = new float[n];
        long rows = t.elements() / n;
        for (long r = 0; r < rows; r++) {
            t.rows.row(r, row);
            switch (t.type) {
                case F32 -> {
                    for (float v : row) {
                        out.f32(v);
                    }
                }
                case F16 -> {
                    for (float v : row) {
                        out.i16(Float.floatToFloat16(v));
                    }
                }
                case BF16 -> {
                    for (float v : row) {
                        out.i16((short) (bf16Bits(v)));
                    }
                }
                default -> Q8Encoder.encodeRow(row, out);
            }
        }
    }

    /** Round-to-nearest-even truncation of a float to bfloat16, as ggml does (NaN stays NaN). */
    static int bf16Bits(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (bits >>> 16) | 64;
        }
        return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
    }

    private static void writeValue(Sink out, GgufValue v) throws IOException {
        out.i32(v.type().id());
        if (v.type() == GgufValue.Type.ARRAY) {
            out.i32(v.elementType().id());
            out.i64(v.asList().size());
            for (Object item : v.asList()) {
                writeScalar(out, v.elementType(), item);
            }
        } else {
            writeScalar(out, v.type(), v.value());
        }
    }

    private static void writeScalar(Sink out, GgufValue.Type type, Object value) throws IOException {
        switch (type) {
            case UINT8, INT8 -> out.i8(((Number) value).byteValue());
            case UINT16, INT16 -> out.i16(((Number) value).shortValue());
            case UINT32, INT32 -> out.i32(((Number) value).intValue());
            case UINT64, INT64 -> out.i64(((Number) value).longValue());
            case FLOAT32 -> out.f32(((Number) value).floatValue());
            case FLOAT64 -> out.f64(((Number) value).doubleValue());
            case BOOL -> out.i8((byte) (((Boolean) value) ? 1 : 0));
            case STRING -> out.string((String) value);
            case ARRAY -> throw new IllegalArgumentException("nested GGUF arrays are not supported");
        }
    }

    /** A little-endian buffered channel writer that tracks its position. */
    static final class Sink {
        private final FileChannel ch;
        private final ByteBuffer buf;
        private long position;

        Sink(FileChannel ch, ByteBuffer buf) {
            this.ch = ch;
            this.buf = buf;
        }

        private void room(int bytes) throws IOException {
            if (buf.remaining() < bytes) {
                flush();
            }
            position += bytes;
        }

        void i8(byte v) throws IOException {
            room(1);
            buf.put(v);
        }

        void i16(short v) throws IOException {
            room(2);
            buf.putShort(v);
        }

        void i32(int v) throws IOException {
            room(4);
            buf.putInt(v);
        }

        void i64(long v) throws IOException {
            room(8);
            buf.putLong(v);
        }

        void f32(float v) throws IOException {
            room(4);
            buf.putFloat(v);
        }

        void f64(double v) throws IOException {
            room(8);
            buf.putDouble(v);
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            for (byte x : b) {
                i8(x);
            }
        }

        void pad(int alignment) throws IOException {
            while (position % alignment != 0) {
                i8((byte) 0);
            }
        }

        void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }
    }
}
