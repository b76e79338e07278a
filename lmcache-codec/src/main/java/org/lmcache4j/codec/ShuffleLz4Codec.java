package org.lmcache4j.codec;

/**
 * {@code shuffle+lz4} (id 1): each 256 KiB block of a chunk byte-shuffled into planes and compressed with
 * LZ4, for tiers where encode speed matters more than size (a local disk the writer must keep up with).
 * Lossless for every dtype and bit pattern; the encoding is described in {@link BlockTable}.
 *
 * <p>On synthetic bf16 KV (Gaussian values, 24 layers, 2 KV heads, 64 dims, 256 tokens) it shrinks a
 * chunk less than {@code shuffle+zstd} but decodes several times faster: {@code CodecThroughput} in the
 * test sources measures both, and docs/PERFORMANCE.md keeps the figures.
 */
public final class ShuffleLz4Codec extends ShuffledBlockCodec {

    /** The configured name. */
    public static final String NAME = "shuffle+lz4";
    /** The id stored with each chunk. */
    public static final int ID = 1;

    /** Creates the codec; {@link java.util.ServiceLoader} calls this. Instances share nothing mutable. */
    public ShuffleLz4Codec() {
        this(BLOCK_BYTES);
    }

    /** A codec of other block sizes, for measurements and tests; what it writes every instance reads. */
    ShuffleLz4Codec(int blockBytes) {
        super(NAME, ID, Lz4Blocks.INSTANCE, blockBytes);
    }
}
