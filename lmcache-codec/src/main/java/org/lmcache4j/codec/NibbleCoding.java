package org.lmcache4j.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * The blocks of {@code shuffle+nibble}: each element's high byte (bf16's sign and seven exponent bits) is
 * coded in four bits from a table of the block's 16 most frequent high bytes; its other bytes are stored
 * as they are. KV's high bytes take few values (2.6 bits of entropy on the reference engine's bf16 KV, a
 * block's 16 most frequent covering all but 0.01-0.02% of its elements), its mantissa bytes are noise, so
 * a bf16 block stores 1.5 bytes an element (1.33x), and decodes with a table lookup and an interleave per
 * 32 elements ({@link NibbleKernel}), at a large share of a plain copy's speed.
 *
 * <p>A coded block of {@code n} elements of {@code e} bytes ({@code G = ceil(n / 32)} groups):
 * <pre>
 * offset        size     field (little-endian)
 *      0          16     table: code c decodes to high byte table[c]
 *     16           4     x: the number of exceptions, 0 to n
 *     20        16*G     codes: byte 16g+j = code of element 32g+j | code of element 32g+16+j &lt;&lt; 4
 *                        (elements past n: code 0)
 *  20+16G    (e-1)*n     each element's other bytes, in element order
 *       .        5*x     exceptions, by ascending element: u32 element index, u8 its high byte
 *                        (the element's code is 0; the exception's byte replaces what code 0 decoded to)
 * </pre>
 */
final class NibbleCoding implements BlockCoding {

    static final int TABLE_BYTES = 16;
    static final int HEADER_BYTES = TABLE_BYTES + 4;
    static final int GROUP = 32;
    static final int EXCEPTION_BYTES = 5;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final NibbleKernel kernel;

    NibbleCoding(NibbleKernel kernel) {
        this.kernel = Objects.requireNonNull(kernel, "kernel");
    }

    /** Stored bytes of a coded block of {@code n} elements of {@code e} bytes with {@code x} exceptions. */
    static long storedBytes(int n, int e, long x) {
        return HEADER_BYTES + 16L * groups(n) + (long) (e - 1) * n + EXCEPTION_BYTES * x;
    }

    static int groups(int n) {
        return Math.ceilDiv(n, GROUP);
    }

    /** Where the other bytes start in a block of {@code n} elements. */
    static long restAt(int n) {
        return HEADER_BYTES + 16L * groups(n);
    }

    @Override
    public Encoder openEncoder(int elementBytes, int blockBytes, Arena arena) {
        if (elementBytes == 2) {
            kernel.prepare(); // a process that stores chunks is about to read some; only 16-bit elements use the kernel
        }
        int e = elementBytes;
        int maxElements = blockBytes / e;
        int[] counts = new int[256];
        int[] codeOf = new int[256];
        // the block and its planes on the heap: the loops below then index arrays, which the JIT compiles
        // tighter than segment accesses (bench --codecs-only, one run each: encode 0.53 GB/s with segments, 0.73 with arrays)
        byte[] in = new byte[blockBytes];
        byte[] codes = new byte[groups(maxElements) * GROUP];
        byte[] packed = new byte[groups(maxElements) * 16];
        byte[] rest = new byte[(e - 1) * maxElements];
        return new Encoder() {
            @Override
            public int encode(MemorySegment block, MemorySegment dst) {
                int length = (int) block.byteSize();
                int n = length / e;
                MemorySegment.copy(block, ValueLayout.JAVA_BYTE, 0, in, 0, length);
                Arrays.fill(counts, 0);
                for (int i = e - 1; i < length; i += e) {
                    counts[in[i] & 0xFF]++;
                }
                byte[] table = mostFrequent(counts, codeOf);
                long covered = 0;
                for (int v = 0; v < 256; v++) {
                    covered += codeOf[v] >= 0 ? counts[v] : 0;
                }
                long x = n - covered;
                long stored = storedBytes(n, e, x);
                if (stored > dst.byteSize()) {
                    return -1;
                }
                int g = groups(n);
                Arrays.fill(codes, n, g * GROUP, (byte) 0); // past the last element: code 0
                for (int i = 0; i < n; i++) {
                    codes[i] = (byte) Math.max(0, codeOf[in[i * e + e - 1] & 0xFF]);
                }
                for (int k = 0; k < g; k++) {
                    for (int j = 0; j < 16; j++) {
                        packed[16 * k + j] = (byte) (codes[GROUP * k + j] | codes[GROUP * k + 16 + j] << 4);
                    }
                }
                if (e == 2) {
                    for (int i = 0; i < n; i++) {
                        rest[i] = in[2 * i];
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        System.arraycopy(in, i * e, rest, i * (e - 1), e - 1);
                    }
                }
                MemorySegment.copy(table, 0, dst, ValueLayout.JAVA_BYTE, 0, TABLE_BYTES);
                dst.set(U32, TABLE_BYTES, (int) x);
                MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, HEADER_BYTES, 16 * g);
                long restAt = restAt(n);
                MemorySegment.copy(rest, 0, dst, ValueLayout.JAVA_BYTE, restAt, (e - 1) * n);
                long at = restAt + (long) (e - 1) * n;
                for (int i = 0; i < n && x > 0; i++) {
                    int h = in[i * e + e - 1] & 0xFF;
                    if (codeOf[h] < 0) {
                        dst.set(U32, at, i);
                        dst.set(ValueLayout.JAVA_BYTE, at + 4, (byte) h);
                        at += EXCEPTION_BYTES;
                    }
                }
                return (int) stored;
            }

            @Override
            public void close() {
            }
        };
    }

    /**
     * The table of the 16 most frequent of {@code counts}' byte values (ties: the smaller value), and each
     * value's code into {@code codeOf} (-1: not in the table). Values never seen do not take a code.
     */
    static byte[] mostFrequent(int[] counts, int[] codeOf) {
        Arrays.fill(codeOf, -1);
        byte[] table = new byte[TABLE_BYTES];
        for (int c = 0; c < TABLE_BYTES; c++) {
            int best = -1;
            for (int v = 0; v < 256; v++) {
                if (codeOf[v] < 0 && counts[v] > 0 && (best < 0 || counts[v] > counts[best])) {
                    best = v;
                }
            }
            if (best < 0) {
                break;
            }
            codeOf[best] = c;
            table[c] = (byte) best;
        }
        return table;
    }

    @Override
    public Decoder openDecoder(int elementBytes, int blockBytes, Arena arena) {
        if (elementBytes == 2) {
            kernel.prepare();
        }
        int e = elementBytes;
        return new Decoder() {
            @Override
            public void decode(MemorySegment stored, MemorySegment block) throws MalformedBlockException {
                int n = (int) (block.byteSize() / e);
                if (stored.byteSize() < HEADER_BYTES) {
                    throw new MalformedBlockException("a coded block of " + stored.byteSize() + " bytes, shorter than its "
                            + HEADER_BYTES + "-byte header");
                }
                long x = Integer.toUnsignedLong(stored.get(U32, TABLE_BYTES));
                long expected = x > n ? -1 : storedBytes(n, e, x);
                if (stored.byteSize() != expected) {
                    throw new MalformedBlockException(x + " exceptions in a coded block of " + stored.byteSize() + " bytes (expected: "
                            + "at most " + n + " exceptions, taking " + storedBytes(n, e, 0) + " + " + EXCEPTION_BYTES + " bytes each)");
                }
                int vectorGroups = e == 2 ? n / GROUP : 0;
                kernel.decodePairs(stored, block, vectorGroups, restAt(n));
                NibbleKernel.scalar(stored, block, e, n, vectorGroups, groups(n));
                long at = restAt(n) + (long) (e - 1) * n;
                for (long k = 0; k < x; k++, at += EXCEPTION_BYTES) {
                    long i = Integer.toUnsignedLong(stored.get(U32, at));
                    if (i >= n) {
                        throw new MalformedBlockException("exception " + k + " names element " + i + " (expected: below " + n + ")");
                    }
                    block.set(ValueLayout.JAVA_BYTE, i * e + e - 1, stored.get(ValueLayout.JAVA_BYTE, at + 4));
                }
            }

            @Override
            public void close() {
            }
        };
    }
}
