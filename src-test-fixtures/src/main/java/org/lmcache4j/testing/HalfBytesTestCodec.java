package org.lmcache4j.testing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.CorruptEncodingException;
import org.lmcache4j.api.spi.KvCodec;

/**
 * A lossy codec for tests of how tiers report lossy chunks: it keeps the even bytes of a chunk and
 * decodes the odd ones as zeros, so what comes back is predictable and half the size.
 */
public final class HalfBytesTestCodec implements KvCodec {

    public static final String NAME = "test-half-bytes";
    public static final int ID = 251;

    /** For {@link java.util.ServiceLoader}. */
    public HalfBytesTestCodec() {
    }

    /** What a chunk of {@code bytes} decodes to: its odd bytes zeroed. */
    public static byte[] decoded(byte[] bytes) {
        byte[] out = bytes.clone();
        for (int i = 1; i < out.length; i += 2) {
            out[i] = 0;
        }
        return out;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    public boolean lossy() {
        return true;
    }

    @Override
    public boolean supports(KvLayout layout) {
        return true;
    }

    @Override
    public long maxEncodedBytes(KvLayout layout, long logicalBytes) {
        return (logicalBytes + 1) / 2;
    }

    @Override
    public long encode(KvLayout layout, MemorySegment src, MemorySegment dst) {
        long n = (src.byteSize() + 1) / 2;
        for (long i = 0; i < n; i++) {
            dst.set(ValueLayout.JAVA_BYTE, i, src.get(ValueLayout.JAVA_BYTE, 2 * i));
        }
        return n;
    }

    @Override
    public void decode(KvLayout layout, MemorySegment encoded, MemorySegment dst) {
        if (encoded.byteSize() != (dst.byteSize() + 1) / 2) {
            throw new CorruptEncodingException(NAME + ": " + encoded.byteSize() + " bytes for a chunk of " + dst.byteSize());
        }
        for (long i = 0; i < dst.byteSize(); i++) {
            dst.set(ValueLayout.JAVA_BYTE, i, i % 2 == 0 ? encoded.get(ValueLayout.JAVA_BYTE, i / 2) : 0);
        }
    }
}
