package org.lmcache4j.examples.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads little-endian GGUF fields from a mapped file, failing with the file and offset on a short read. */
final class GgufCursor {

    private static final long MAX_COUNT = 1L << 40;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment file;
    private final String name;
    private long position;

    GgufCursor(MemorySegment file, String name) {
        this.file = file;
        this.name = name;
    }

    long position() {
        return position;
    }

    int i32() {
        need(4);
        int v = file.get(I32, position);
        position += 4;
        return v;
    }

    long u32() {
        return Integer.toUnsignedLong(i32());
    }

    long u64() {
        need(8);
        long v = file.get(I64, position);
        position += 8;
        return v;
    }

    /** A u64 count that must be plausible (guards against garbage files allocating huge arrays). */
    long count(String what) {
        long n = u64();
        if (n < 0 || n > MAX_COUNT) {
            throw new IllegalArgumentException(name + ": " + what + " " + Long.toUnsignedString(n) + " at offset "
                    + (position - 8) + " (expected: 0 to 2^40)");
        }
        return n;
    }

    String string() {
        long len = count("string length");
        need(len);
        byte[] bytes = file.asSlice(position, len).toArray(ValueLayout.JAVA_BYTE);
        position += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    GgufValue value(GgufValue.Type type) {
        if (type == GgufValue.Type.ARRAY) {
            GgufValue.Type element = GgufValue.Type.ofId(u32());
            long n = count("array length");
            List<Object> items = new ArrayList<>((int) Math.min(n, 1 << 20));
            for (long i = 0; i < n; i++) {
                items.add(scalar(element));
            }
            return new GgufValue(type, items, element);
        }
        return new GgufValue(type, scalar(type), null);
    }

    private Object scalar(GgufValue.Type type) {
        return switch (type) {
            case UINT8 -> (long) (byte1() & 0xff);
            case INT8 -> (long) byte1();
            case UINT16 -> (long) (short2() & 0xffff);
            case INT16 -> (long) short2();
            case UINT32 -> u32();
            case INT32 -> (long) i32();
            case UINT64, INT64 -> u64();
            case FLOAT32 -> (double) Float.intBitsToFloat(i32());
            case FLOAT64 -> Double.longBitsToDouble(u64());
            case BOOL -> byte1() != 0;
            case STRING -> string();
            case ARRAY -> throw new IllegalArgumentException(name + ": nested array at offset " + position
                    + " (expected: arrays of scalars or strings)");
        };
    }

    private byte byte1() {
        need(1);
        return file.get(ValueLayout.JAVA_BYTE, position++);
    }

    private short short2() {
        need(2);
        short v = file.get(I16, position);
        position += 2;
        return v;
    }

    private void need(long bytes) {
        if (position + bytes > file.byteSize()) {
            throw new IllegalArgumentException(name + ": truncated at offset " + position + " (expected: " + bytes
                    + " more bytes; file has " + file.byteSize() + ")");
        }
    }
}
