package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.lmcache4j.api.spi.CorruptEncodingException;

/**
 * The header of a shuffled-block encoding: which codec wrote it, how the chunk was cut into blocks, and
 * where each block's stored bytes are. Reading it checks every field against the encoded length and the
 * chunk's logical length before any block is touched, so a decoder can trust the offsets it returns, and
 * can decode blocks in any order or in parallel.
 *
 * <pre>
 * offset  size  field (little-endian)
 *      0     1  format: {@value #FORMAT} (version 1 of this header)
 *      1     1  codec id (1 shuffle+lz4, 2 shuffle+zstd, 5 shuffle+nibble): another codec's bytes are not ours
 *      2     1  element bytes: 1, 2 or 4 (the dtype's size)
 *      3     1  0 (reserved)
 *      4     4  block bytes: logical bytes of every block but the last (whole elements, 1 B to 16 MiB;
 *               the codecs write 128 Ki elements)
 *      8     4  block count: ceil(logical length / block bytes), at least 1
 *     12    4n  per block: bit 31 set = stored raw (its logical bytes as they are, unshuffled), clear =
 *               coded (its shuffled bytes compressed, or its nibble coding: the codec's {@link BlockCoding});
 *               bits 0-30 = stored length (raw: the block's logical length; coded: 1 to that length - 1)
 *  12+4n        the stored blocks, in order, nothing between or after them
 * </pre>
 */
final class BlockTable {

    /** The format byte of this header's version. */
    static final int FORMAT = 0xB1;
    /** Most logical bytes of one block a reader accepts: the decode scratch it allocates is this big at most. */
    static final int MAX_BLOCK_BYTES = 16 << 20;
    /** The bytes before the per-block entries. */
    static final int FIXED_BYTES = 12;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int RAW_FLAG = 0x8000_0000;
    private static final int LENGTH_MASK = 0x7FFF_FFFF;

    private final int blockBytes;
    private final long logicalBytes;
    private final int[] entries;
    private final long[] offsets;

    private BlockTable(int blockBytes, long logicalBytes, int[] entries, long[] offsets) {
        this.blockBytes = blockBytes;
        this.logicalBytes = logicalBytes;
        this.entries = entries;
        this.offsets = offsets;
    }

    /** Bytes of the header of {@code blockCount} blocks. */
    static long headerBytes(long blockCount) {
        return FIXED_BYTES + 4 * blockCount;
    }

    /** The block count the fixed part of {@code encoded} (at least {@link #FIXED_BYTES} of it) claims, unchecked. */
    static long storedBlockCount(MemorySegment encoded) {
        return Integer.toUnsignedLong(encoded.get(U32, 8));
    }

    /** The number of blocks a chunk of {@code logicalBytes} is cut into. */
    static long blockCount(long logicalBytes, int blockBytes) {
        return Math.ceilDiv(logicalBytes, blockBytes);
    }

    /** The entry of a block stored compressed in {@code storedBytes}. */
    static int compressedEntry(int storedBytes) {
        return storedBytes;
    }

    /** The entry of a block stored raw, {@code logicalBytes} as they are. */
    static int rawEntry(int logicalBytes) {
        return RAW_FLAG | logicalBytes;
    }

    /** Writes the header at the start of {@code dst}. */
    static void write(MemorySegment dst, int codecId, int elementBytes, int blockBytes, int[] entries) {
        dst.set(ValueLayout.JAVA_BYTE, 0, (byte) FORMAT);
        dst.set(ValueLayout.JAVA_BYTE, 1, (byte) codecId);
        dst.set(ValueLayout.JAVA_BYTE, 2, (byte) elementBytes);
        dst.set(ValueLayout.JAVA_BYTE, 3, (byte) 0);
        dst.set(U32, 4, blockBytes);
        dst.set(U32, 8, entries.length);
        for (int i = 0; i < entries.length; i++) {
            dst.set(U32, FIXED_BYTES + 4L * i, entries[i]);
        }
    }

    /**
     * Reads and checks the header of {@code encoded}, an encoding by codec {@code codecId} of a chunk of
     * {@code logicalBytes} of {@code elementBytes}-byte elements.
     *
     * @throws CorruptEncodingException naming {@code codecName} and the field that is wrong
     */
    static BlockTable read(String codecName, int codecId, MemorySegment encoded, int elementBytes, long logicalBytes) {
        long size = encoded.byteSize();
        if (size < FIXED_BYTES) {
            throw corrupt(codecName, size, logicalBytes, "shorter than the " + FIXED_BYTES + "-byte header");
        }
        int format = Byte.toUnsignedInt(encoded.get(ValueLayout.JAVA_BYTE, 0));
        int id = Byte.toUnsignedInt(encoded.get(ValueLayout.JAVA_BYTE, 1));
        int element = Byte.toUnsignedInt(encoded.get(ValueLayout.JAVA_BYTE, 2));
        int reserved = Byte.toUnsignedInt(encoded.get(ValueLayout.JAVA_BYTE, 3));
        if (format != FORMAT || id != codecId || element != elementBytes || reserved != 0) {
            throw corrupt(codecName, size, logicalBytes, "header format " + format + ", codec id " + id + ", element bytes " + element
                    + ", reserved " + reserved + " (expected: " + FORMAT + ", " + codecId + ", " + elementBytes + ", 0)");
        }
        int blockBytes = encoded.get(U32, 4);
        if (blockBytes <= 0 || blockBytes > MAX_BLOCK_BYTES || blockBytes % elementBytes != 0) {
            throw corrupt(codecName, size, logicalBytes, "block bytes " + Integer.toUnsignedString(blockBytes)
                    + " (expected: whole elements, 1 to " + MAX_BLOCK_BYTES + ")");
        }
        long count = Integer.toUnsignedLong(encoded.get(U32, 8));
        long expectedCount = blockCount(logicalBytes, blockBytes);
        if (count != expectedCount || count == 0 || count > Integer.MAX_VALUE - 8) {
            throw corrupt(codecName, size, logicalBytes, "block count " + count + " (expected: " + expectedCount
                    + " blocks of " + blockBytes + " bytes, at least 1)");
        }
        long header = headerBytes(count);
        if (size < header) {
            throw corrupt(codecName, size, logicalBytes, "shorter than the header of " + count + " blocks (" + header + " bytes)");
        }
        int[] entries = new int[(int) count];
        long[] offsets = new long[(int) count];
        long at = header;
        for (int i = 0; i < count; i++) {
            int entry = encoded.get(U32, FIXED_BYTES + 4L * i);
            int logical = (int) Math.min(blockBytes, logicalBytes - (long) i * blockBytes);
            int stored = entry & LENGTH_MASK;
            boolean raw = (entry & RAW_FLAG) != 0;
            if (raw ? stored != logical : stored <= 0 || stored >= logical) {
                throw corrupt(codecName, size, logicalBytes, "block " + i + " stored " + (raw ? "raw" : "compressed") + " in " + stored
                        + " bytes (expected: " + (raw ? "its " + logical + " logical bytes" : "1 to " + (logical - 1)) + ")");
            }
            entries[i] = entry;
            offsets[i] = at;
            at += stored;
        }
        if (at != size) {
            throw corrupt(codecName, size, logicalBytes, "header and blocks take " + at + " bytes (expected: the encoded length)");
        }
        return new BlockTable(blockBytes, logicalBytes, entries, offsets);
    }

    /** Number of blocks. */
    int blockCount() {
        return entries.length;
    }

    /** Logical bytes of every block but the last. */
    int blockBytes() {
        return blockBytes;
    }

    /** Where block {@code i}'s logical bytes start in the chunk. */
    long logicalOffset(int i) {
        return (long) i * blockBytes;
    }

    /** Logical bytes of block {@code i}. */
    int logicalBytes(int i) {
        return (int) Math.min(blockBytes, logicalBytes - logicalOffset(i));
    }

    /** Where block {@code i}'s stored bytes start in the encoding. */
    long storedOffset(int i) {
        return offsets[i];
    }

    /** Stored bytes of block {@code i}. */
    int storedBytes(int i) {
        return entries[i] & LENGTH_MASK;
    }

    /** Whether block {@code i} is stored raw (its logical bytes, unshuffled) rather than compressed. */
    boolean raw(int i) {
        return (entries[i] & RAW_FLAG) != 0;
    }

    private static CorruptEncodingException corrupt(String codecName, long encodedBytes, long logicalBytes, String what) {
        return new CorruptEncodingException(codecName + ": encoding of " + encodedBytes + " bytes for a chunk of " + logicalBytes
                + " bytes: " + what);
    }
}
