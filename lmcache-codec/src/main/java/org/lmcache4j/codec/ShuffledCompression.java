package org.lmcache4j.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A block byte-shuffled into planes ({@link ByteShuffle}), then compressed by a library
 * ({@link BlockCompression}): the blocks of {@code shuffle+lz4} and {@code shuffle+zstd}.
 *
 * <p>The libraries work on direct buffers: a heap block is first copied to native scratch (encode) or
 * unshuffled into it and then copied out (decode), and heap stored bytes pass through native scratch too.
 * Copies within L2 run at tens of GB/s, while a shuffle loop that has seen both heap and native segments
 * runs up to 2-3x slower than one that has seen only native ones (its JIT profile turns polymorphic), and
 * a process whose tiers hand over both kinds would otherwise have its decode speed depend on which tier
 * ran first. A native {@code dst} receives compressed bytes directly: the compressor is given its length
 * as room and reports a block that would not fit.
 */
final class ShuffledCompression implements BlockCoding {

    private final BlockCompression compression;

    ShuffledCompression(BlockCompression compression) {
        this.compression = Objects.requireNonNull(compression, "compression");
    }

    @Override
    public Encoder openEncoder(int elementBytes, int blockBytes, Arena arena) {
        MemorySegment planes = arena.allocate(blockBytes);
        BlockCompression.Compressor compressor = compression.openCompressor();
        return new Encoder() {
            private MemorySegment staged; // heap blocks' native copy, allocated on the first one
            private MemorySegment compressed; // compressed bytes bound for a heap dst

            @Override
            public int encode(MemorySegment block, MemorySegment dst) {
                int length = (int) block.byteSize();
                if (!block.isNative()) {
                    staged = staged == null ? arena.allocate(blockBytes) : staged;
                    block = staged.asSlice(0, length).copyFrom(block);
                }
                MemorySegment shuffled = planes.asSlice(0, length);
                ByteShuffle.shuffle(block, shuffled, elementBytes);
                MemorySegment target = dst;
                if (!dst.isNative()) {
                    compressed = compressed == null ? arena.allocate(blockBytes) : compressed;
                    target = compressed.asSlice(0, dst.byteSize());
                }
                int stored = compressor.compress(shuffled.asByteBuffer(), target.asByteBuffer());
                if (stored >= 0 && target != dst) {
                    MemorySegment.copy(target, 0, dst, 0, stored);
                }
                return stored;
            }

            @Override
            public void close() {
                compressor.close();
            }
        };
    }

    @Override
    public Decoder openDecoder(int elementBytes, int blockBytes, Arena arena) {
        MemorySegment planes = arena.allocate(blockBytes);
        BlockCompression.Decompressor decompressor = compression.openDecompressor();
        return new Decoder() {
            private MemorySegment copied; // heap stored bytes' native copy
            private MemorySegment staged; // the unshuffled block bound for a heap target

            @Override
            public void decode(MemorySegment stored, MemorySegment block) throws MalformedBlockException {
                int length = (int) block.byteSize();
                MemorySegment input = stored;
                if (!stored.isNative()) {
                    copied = copied == null ? arena.allocate(blockBytes) : copied;
                    input = copied.asSlice(0, stored.byteSize()).copyFrom(stored);
                }
                MemorySegment shuffled = planes.asSlice(0, length);
                int decoded = decompressor.decompress(input.asByteBuffer(), shuffled.asByteBuffer());
                if (decoded != length) {
                    throw new MalformedBlockException("decompresses to " + decoded + " bytes");
                }
                if (block.isNative()) {
                    ByteShuffle.unshuffle(shuffled, block, elementBytes);
                } else {
                    staged = staged == null ? arena.allocate(blockBytes) : staged;
                    ByteShuffle.unshuffle(shuffled, staged.asSlice(0, length), elementBytes);
                    MemorySegment.copy(staged, 0, block, 0, length);
                }
            }

            @Override
            public void close() {
                decompressor.close();
            }
        };
    }
}
