package org.lmcache4j.testing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.CorruptEncodingException;
import org.lmcache4j.api.spi.KvCodec;

/**
 * A lossless codec for tests of how tiers store encoded chunks: runs of zero bytes become a tag and a
 * length, other bytes are copied behind a tag and a length. Zero-heavy chunks shrink; random ones do not
 * (encode returns -1). Every module whose tests use these fixtures finds it through
 * {@link org.lmcache4j.api.spi.KvCodecs}: the fixtures' services file names it.
 */
public final class ZeroRunsTestCodec implements KvCodec {

    public static final String NAME = "test-zero-runs";
    public static final int ID = 250;
    private static final byte ZEROS = 0;
    private static final byte LITERAL = 1;

    /** For {@link java.util.ServiceLoader}. */
    public ZeroRunsTestCodec() {
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
        return false;
    }

    @Override
    public boolean supports(KvLayout layout) {
        return true;
    }

    @Override
    public long maxEncodedBytes(KvLayout layout, long logicalBytes) {
        return logicalBytes + 5 * (logicalBytes / 2 + 1);
    }

    @Override
    public long encode(KvLayout layout, MemorySegment src, MemorySegment dst) {
        long n = src.byteSize();
        if (n % layout.bytesPerToken() != 0) {
            throw new IllegalArgumentException("src: " + n + " bytes (expected: whole tokens of " + layout.bytesPerToken() + ")");
        }
        long out = 0;
        long i = 0;
        while (i < n) {
            long j = i;
            boolean zeros = src.get(ValueLayout.JAVA_BYTE, i) == 0;
            while (j < n && (src.get(ValueLayout.JAVA_BYTE, j) == 0) == zeros && j - i < Integer.MAX_VALUE) {
                j++;
            }
            int run = (int) (j - i);
            if (out + 5 + (zeros ? 0 : run) >= n) {
                return -1;
            }
            dst.set(ValueLayout.JAVA_BYTE, out, zeros ? ZEROS : LITERAL);
            dst.set(ValueLayout.JAVA_INT_UNALIGNED, out + 1, run);
            out += 5;
            if (!zeros) {
                MemorySegment.copy(src, i, dst, out, run);
                out += run;
            }
            i = j;
        }
        return out;
    }

    /** Calls of a streaming decode's {@code advance} that decoded something before the whole encoding was there. */
    public static final java.util.concurrent.atomic.AtomicLong EARLY_RUNS = new java.util.concurrent.atomic.AtomicLong();

    @Override
    public void decode(KvLayout layout, MemorySegment encoded, MemorySegment dst) {
        long[] at = {0, 0};
        decodeRuns(encoded, encoded.byteSize(), dst, at);
        finishRuns(encoded, dst, at);
    }

    @Override
    public StreamingDecode streamingDecode(KvLayout layout, MemorySegment dst) {
        long[] at = {0, 0}; // next run's offset in the encoding, bytes decoded so far
        return new StreamingDecode() {
            @Override
            public void advance(MemorySegment encoded, long available) {
                long before = at[1];
                decodeRuns(encoded, available, dst, at);
                if (at[1] > before && available < encoded.byteSize()) {
                    EARLY_RUNS.incrementAndGet();
                }
            }

            @Override
            public void finish(MemorySegment encoded) {
                decodeRuns(encoded, encoded.byteSize(), dst, at);
                finishRuns(encoded, dst, at);
            }
        };
    }

    private static void finishRuns(MemorySegment encoded, MemorySegment dst, long[] at) {
        if (at[0] != encoded.byteSize()) {
            throw new CorruptEncodingException(NAME + ": a run cut at byte " + at[0] + " of " + encoded.byteSize());
        }
        if (at[1] != dst.byteSize()) {
            throw new CorruptEncodingException(NAME + ": decodes to " + at[1] + " bytes (expected: " + dst.byteSize() + ")");
        }
    }

    /** Decodes the runs wholly within {@code encoded[at[0], available)}, advancing {@code at}. */
    private static void decodeRuns(MemorySegment encoded, long available, MemorySegment dst, long[] at) {
        long in = at[0];
        long out = at[1];
        while (in + 5 <= available) {
            byte tag = encoded.get(ValueLayout.JAVA_BYTE, in);
            int run = encoded.get(ValueLayout.JAVA_INT_UNALIGNED, in + 1);
            if (tag != ZEROS && tag != LITERAL || run <= 0 || out + run > dst.byteSize()
                    || tag == LITERAL && in + 5 + run > encoded.byteSize()) {
                throw new CorruptEncodingException(NAME + ": run of tag " + tag + " and length " + run + " at byte " + in
                        + " does not fit (decoded " + out + " of " + dst.byteSize() + ")");
            }
            if (tag == LITERAL && in + 5 + run > available) {
                break; // its bytes have not all arrived
            }
            in += 5;
            if (tag == ZEROS) {
                dst.asSlice(out, run).fill((byte) 0);
            } else {
                MemorySegment.copy(encoded, in, dst, out, run);
                in += run;
            }
            out += run;
        }
        at[0] = in;
        at[1] = out;
    }
}
