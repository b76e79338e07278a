package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.CorruptEncodingException;

/**
 * The 24-byte header in front of a quantized chunk: which codec wrote it and the shape it encodes, so a
 * decoder can tell its own bytes of this very layout and length from anything else before it writes.
 *
 * <p>Little-endian: {@code int magic}, {@code byte version} (1), {@code byte dtype} (1 FP32, 2 FP16,
 * 3 BF16), {@code byte mla} (0 or 1), {@code byte 0}, then {@code int numLayers, numKvHeads, headDim,
 * tokens}.
 */
final class QuantizedHeader {

    /** Bytes of the header. */
    static final int BYTES = 24;

    private static final byte VERSION = 1;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private QuantizedHeader() {
    }

    /** Writes the header of {@code tokens} tokens of {@code layout} at the start of {@code dst}. */
    static void write(int magic, KvLayout layout, int tokens, MemorySegment dst) {
        dst.set(INT, 0, magic);
        dst.set(ValueLayout.JAVA_BYTE, 4, VERSION);
        dst.set(ValueLayout.JAVA_BYTE, 5, dtypeCode(layout.dtype()));
        dst.set(ValueLayout.JAVA_BYTE, 6, (byte) (layout.mla() ? 1 : 0));
        dst.set(ValueLayout.JAVA_BYTE, 7, (byte) 0);
        dst.set(INT, 8, layout.numLayers());
        dst.set(INT, 12, layout.numKvHeads());
        dst.set(INT, 16, layout.headDim());
        dst.set(INT, 20, tokens);
    }

    /**
     * Checks that {@code encoded} is {@code expectedBytes} long and starts with the header {@link #write}
     * writes for {@code magic}, {@code layout} and {@code tokens}.
     *
     * @throws CorruptEncodingException naming {@code codec}, the field that differs, and both values
     */
    static void check(String codec, int magic, KvLayout layout, int tokens, long expectedBytes, MemorySegment encoded) {
        long size = encoded.byteSize();
        if (size < BYTES) {
            throw corrupt(codec, "length " + size + " (expected: " + expectedBytes + " for " + tokens + " tokens)");
        }
        expect(codec, "magic", encoded.get(INT, 0), magic);
        expect(codec, "version", encoded.get(ValueLayout.JAVA_BYTE, 4), VERSION);
        expect(codec, "dtype code", encoded.get(ValueLayout.JAVA_BYTE, 5), dtypeCode(layout.dtype()));
        expect(codec, "mla", encoded.get(ValueLayout.JAVA_BYTE, 6), layout.mla() ? 1 : 0);
        expect(codec, "reserved byte", encoded.get(ValueLayout.JAVA_BYTE, 7), 0);
        expect(codec, "numLayers", encoded.get(INT, 8), layout.numLayers());
        expect(codec, "numKvHeads", encoded.get(INT, 12), layout.numKvHeads());
        expect(codec, "headDim", encoded.get(INT, 16), layout.headDim());
        expect(codec, "tokens", encoded.get(INT, 20), tokens);
        if (size != expectedBytes) {
            throw corrupt(codec, "length " + size + " (expected: " + expectedBytes + " for " + tokens + " tokens)");
        }
    }

    private static void expect(String codec, String field, int found, int expected) {
        if (found != expected) {
            throw corrupt(codec, "header " + field + " " + found + " (expected: " + expected + ")");
        }
    }

    private static CorruptEncodingException corrupt(String codec, String what) {
        return new CorruptEncodingException("codec " + codec + ": encoded chunk " + what);
    }

    private static byte dtypeCode(KvDtype dtype) {
        return switch (dtype) {
            case FP32 -> 1;
            case FP16 -> 2;
            case BF16 -> 3;
            default -> throw FloatElements.unsupported(dtype);
        };
    }
}
