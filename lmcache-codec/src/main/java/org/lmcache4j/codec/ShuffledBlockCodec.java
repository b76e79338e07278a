package org.lmcache4j.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.CorruptEncodingException;
import org.lmcache4j.api.spi.KvCodec;

/**
 * A lossless codec that cuts a chunk into blocks of whole elements and stores each on its own, through its
 * {@link BlockCoding} (byte-shuffled and compressed, or its high bytes coded in four bits); a block that
 * does not shrink is stored as it is. Blocks are independent, so a reader can decode them in parallel or
 * as they arrive; the {@link BlockTable} header says where each one is.
 *
 * <p>Implementation notes. Each call allocates its scratch in a confined {@link Arena} closed before it
 * returns (for the shuffling codecs one block of shuffled planes, plus native copies of heap blocks: see
 * {@link ShuffledCompression}). That cost 8 us a call (three 256 KiB blocks allocated, zeroed and freed;
 * {@code CodecThroughput scratch}, command in {@link ShuffleZstdCodec}) against the 6 ms a 3 MiB chunk took
 * to encode with zstd, holds no native memory between calls, and shares nothing between threads;
 * thread-local buffers would save those microseconds but keep a megabyte or so per thread, virtual
 * threads included.
 */
abstract sealed class ShuffledBlockCodec implements KvCodec permits ShuffleLz4Codec, ShuffleZstdCodec, ShuffleNibbleCodec {

    /**
     * Bytes of one plane of a block: a block holds this many elements, so {@code PLANE_BYTES * e} logical
     * bytes (256 KiB of 16-bit KV, 512 KiB of fp32, 128 KiB of fp8). zstd cuts its input into blocks of at
     * most 128 KiB, each with its own entropy tables; a plane of exactly 128 KiB fills one of them alone, and
     * the tables fit the plane (the exponent plane's few values, the mantissa plane's noise). With smaller
     * planes two planes share a table, and the ratio of bf16 KV fell from 1.42 to 1.25 (fp32: 1.18 to 1.11;
     * {@code CodecThroughput blocks}, see {@link ShuffleZstdCodec}). Large enough too that a block's table
     * entry and frame (16-20 bytes) are noise, small enough that a reader can start on a chunk's first block
     * early and that a block's planes and the compressor's tables stay in L2.
     */
    static final int PLANE_BYTES = 128 << 10;

    private final String name;
    private final int id;
    private final BlockCoding coding;
    private final int planeBytes;

    /** @param planeBytes elements of a block: a block is {@code planeBytes * e} logical bytes, {@code e} the dtype's size */
    ShuffledBlockCodec(String name, int id, BlockCoding coding, int planeBytes) {
        if (planeBytes <= 0 || planeBytes > BlockTable.MAX_BLOCK_BYTES / 4) {
            throw new IllegalArgumentException("planeBytes: " + planeBytes + " (expected: 1 to " + BlockTable.MAX_BLOCK_BYTES / 4 + ")");
        }
        this.name = name;
        this.id = id;
        this.coding = java.util.Objects.requireNonNull(coding, "coding");
        this.planeBytes = planeBytes;
    }

    /** Logical bytes of every block but a chunk's last, for {@code layout}'s dtype. */
    final int blockBytes(KvLayout layout) {
        return planeBytes * layout.dtype().sizeBytes();
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int id() {
        return id;
    }

    @Override
    public final boolean lossy() {
        return false;
    }

    /** Every layout: the codec moves bytes and never reads them as numbers. */
    @Override
    public final boolean supports(KvLayout layout) {
        return layout != null;
    }

    /** The chunk's length plus the header: a block that would not shrink is stored raw. */
    @Override
    public final long maxEncodedBytes(KvLayout layout, long logicalBytes) {
        Objects.requireNonNull(layout, "layout");
        if (logicalBytes < 0) {
            throw new IllegalArgumentException("logicalBytes: " + logicalBytes + " (expected: >= 0)");
        }
        return BlockTable.headerBytes(BlockTable.blockCount(logicalBytes, blockBytes(layout))) + logicalBytes;
    }

    @Override
    public final long encode(KvLayout layout, MemorySegment src, MemorySegment dst) {
        long logical = requireWholeTokens(layout, src, "src");
        long bound = maxEncodedBytes(layout, logical);
        if (dst.byteSize() < bound || dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: " + dst.byteSize() + (dst.isReadOnly() ? " read-only" : "") + " bytes (expected: "
                    + "writable, at least " + bound + " = maxEncodedBytes of " + logical + " bytes for " + name + ")");
        }
        if (logical == 0) {
            return -1;
        }
        int elementBytes = layout.dtype().sizeBytes();
        int blockBytes = blockBytes(layout);
        int[] entries = new int[(int) BlockTable.blockCount(logical, blockBytes)];
        try (Arena arena = Arena.ofConfined(); BlockCoding.Encoder encoder = coding.openEncoder(elementBytes,
                (int) Math.min(blockBytes, logical), arena)) {
            long at = BlockTable.headerBytes(entries.length);
            for (int i = 0; i < entries.length; i++) {
                long from = (long) i * blockBytes;
                int length = (int) Math.min(blockBytes, logical - from);
                MemorySegment block = src.asSlice(from, length);
                int room = length - 1; // a coded block must be shorter than the block
                int stored = room == 0 ? -1 : encoder.encode(block, dst.asSlice(at, room));
                if (stored < 0) {
                    MemorySegment.copy(block, 0, dst, at, length);
                    entries[i] = BlockTable.rawEntry(length);
                    at += length;
                } else {
                    entries[i] = BlockTable.compressedEntry(stored);
                    at += stored;
                }
                if (at >= logical) {
                    return -1; // no smaller than the chunk, whatever the blocks left do
                }
            }
            BlockTable.write(dst, id, elementBytes, blockBytes, entries);
            return at;
        }
    }

    @Override
    public final void decode(KvLayout layout, MemorySegment encoded, MemorySegment dst) {
        long logical = requireWholeTokens(layout, dst, "dst");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: read-only (expected: writable, " + logical + " bytes)");
        }
        int elementBytes = layout.dtype().sizeBytes();
        BlockTable table = BlockTable.read(name, id, encoded, elementBytes, logical);
        decodeBlocks(table, 0, table.blockCount(), encoded, dst, elementBytes);
    }

    /**
     * Decodes blocks as their stored bytes arrive: the block table once the header is there (its length
     * follows from the chunk's length and the layout's block size), then each block whose bytes are all
     * in. Holds nothing between calls: each call takes its scratch and its decompressor and gives them back.
     */
    @Override
    public final StreamingDecode streamingDecode(KvLayout layout, MemorySegment dst) {
        long logical = requireWholeTokens(layout, dst, "dst");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: read-only (expected: writable, " + logical + " bytes)");
        }
        int elementBytes = layout.dtype().sizeBytes();
        return new StreamingDecode() {
            private BlockTable table;
            private int next; // the first block not decoded yet

            @Override
            public void advance(MemorySegment encoded, long available) {
                if (table == null) {
                    // the table's length is the stored block count's (its fixed part says), whatever this build's block size
                    if (available < Math.min(BlockTable.FIXED_BYTES, encoded.byteSize())) {
                        return;
                    }
                    if (encoded.byteSize() >= BlockTable.FIXED_BYTES
                            && available < Math.min(BlockTable.headerBytes(BlockTable.storedBlockCount(encoded)), encoded.byteSize())) {
                        return;
                    }
                    table = BlockTable.read(name, id, encoded, elementBytes, logical); // shorter than its fixed part: corrupt
                }
                int end = next;
                while (end < table.blockCount() && table.storedOffset(end) + table.storedBytes(end) <= available) {
                    end++;
                }
                if (end > next) {
                    decodeBlocks(table, next, end, encoded, dst, elementBytes);
                    next = end;
                }
            }

            @Override
            public void finish(MemorySegment encoded) {
                advance(encoded, encoded.byteSize());
                if (next != table.blockCount()) {
                    throw new CorruptEncodingException(name + ": " + next + " of " + table.blockCount() + " blocks decoded");
                }
            }
        };
    }

    /** Decodes blocks {@code [from, to)} of {@code table}, with scratch and a decoder of this call's own. */
    private void decodeBlocks(BlockTable table, int from, int to, MemorySegment encoded, MemorySegment dst, int elementBytes) {
        try (Arena arena = Arena.ofConfined(); BlockCoding.Decoder decoder = coding.openDecoder(elementBytes,
                (int) Math.min(table.blockBytes(), dst.byteSize()), arena)) {
            for (int i = from; i < to; i++) {
                MemorySegment block = dst.asSlice(table.logicalOffset(i), table.logicalBytes(i));
                if (table.raw(i)) {
                    MemorySegment.copy(encoded, table.storedOffset(i), block, 0, block.byteSize());
                    continue;
                }
                try {
                    decoder.decode(encoded.asSlice(table.storedOffset(i), table.storedBytes(i)), block);
                } catch (MalformedBlockException e) {
                    throw new CorruptEncodingException(blockMessage(table, i, encoded, "does not decode: " + e.getMessage()), e);
                }
            }
        }
    }

    private String blockMessage(BlockTable table, int i, MemorySegment encoded, String what) {
        return name + ": block " + i + " of " + table.blockCount() + " (" + table.storedBytes(i) + " stored bytes at " + table.storedOffset(i)
                + " of " + encoded.byteSize() + ", expected to decode to " + table.logicalBytes(i) + " bytes) " + what;
    }

    private long requireWholeTokens(KvLayout layout, MemorySegment chunk, String what) {
        Objects.requireNonNull(layout, "layout");
        long size = chunk.byteSize();
        if (size % layout.bytesPerToken() != 0) {
            throw new IllegalArgumentException(what + ": " + size + " bytes (expected: whole tokens of " + layout.bytesPerToken()
                    + " bytes for " + layout + ")");
        }
        return size;
    }

    @Override
    public String toString() {
        return name;
    }
}
