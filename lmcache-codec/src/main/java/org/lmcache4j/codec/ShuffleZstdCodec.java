package org.lmcache4j.codec;

/**
 * {@code shuffle+zstd} (id 2): each 256 KiB block of a chunk byte-shuffled into planes and compressed with
 * zstd at level {@value #LEVEL}, for tiers where size matters more (a shared file system, a remote store).
 * Lossless for every dtype and bit pattern; the encoding is described in {@link BlockTable}.
 *
 * <p>Why level 1: on shuffled bf16 KV the planes are an exponent plane of few values and near-random
 * mantissa planes, so the matches a higher level searches for are not there; what shrinks a block is the
 * entropy coding, which every level does. Measured on synthetic bf16 KV, level 1 compressed better and
 * faster than level 3 (see {@code CodecThroughput} in the test sources for the command and the figures).
 */
public final class ShuffleZstdCodec extends ShuffledBlockCodec {

    /** The configured name. */
    public static final String NAME = "shuffle+zstd";
    /** The id stored with each chunk. */
    public static final int ID = 2;
    /** The zstd level blocks are compressed at. */
    static final int LEVEL = 1;

    /** Creates the codec; {@link java.util.ServiceLoader} calls this. Instances share nothing mutable. */
    public ShuffleZstdCodec() {
        this(LEVEL, BLOCK_BYTES);
    }

    /** A codec of another level or block size, for measurements and tests; what it writes every instance reads. */
    ShuffleZstdCodec(int level, int blockBytes) {
        super(NAME, ID, new ZstdBlocks(level), blockBytes);
    }
}
