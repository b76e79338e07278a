package org.lmcache4j.codec;

/**
 * {@code shuffle+nibble} (id 5): each block of a chunk (16 Ki elements: 32 KiB of bf16) stored with its
 * elements' high bytes coded in four bits from the block's own table of 16 ({@link NibbleCoding}), the
 * other bytes as they are; a block whose high bytes take too many values is stored raw. Lossless for every
 * dtype and bit pattern; the header is a {@link BlockTable}'s.
 *
 * <p>For tiers whose reads are the bottleneck (a local disk, a remote store): it stores bf16 KV 1.33x
 * smaller, less than {@code shuffle+zstd}'s 1.44x, but decodes several times faster, so a read that
 * decodes as the bytes arrive gains most of the ratio. On the reference engine's bf16 KV (16 chunks, one
 * core of a shared 2-core AMD EPYC VM, Vector API kernel; three runs of {@code bin/lmcache bench
 * --codecs-only}, docs/PERFORMANCE.md "KV codecs"): ratio 1.332, decode 11.5 GB/s (9.4-12.5), encode
 * 0.67 GB/s; the scalar kernel, without {@code --add-modules jdk.incubator.vector}, decoded 1.8 GB/s in a
 * scratch probe, where a plain copy of the same bytes ran at 15-17 GB/s. fp16 has two mantissa bits in its
 * high byte, fp32 three more bytes of mantissa to carry raw, so both gain less; fp8 elements are their
 * high byte and take at most 16 values only in small or constant chunks (otherwise stored raw).
 */
public final class ShuffleNibbleCodec extends ShuffledBlockCodec {

    /** The configured name. */
    public static final String NAME = "shuffle+nibble";
    /** The id stored with each chunk. */
    public static final int ID = 5;
    /** Elements of a block: 32 KiB of bf16, small enough that a read decodes close behind the bytes arriving. */
    static final int BLOCK_ELEMENTS = 16 << 10;

    private final NibbleKernel kernel;

    /** Creates the codec; {@link java.util.ServiceLoader} calls this. Instances share nothing mutable. */
    public ShuffleNibbleCodec() {
        this(NibbleKernel.best(), BLOCK_ELEMENTS);
    }

    /** A codec on another kernel or block size, for measurements and tests; every instance reads what any writes. */
    ShuffleNibbleCodec(NibbleKernel kernel, int blockElements) {
        super(NAME, ID, new NibbleCoding(kernel), blockElements);
        this.kernel = kernel;
    }

    /** The kernel this instance decodes with. */
    NibbleKernel kernel() {
        return kernel;
    }

    @Override
    public String toString() {
        return NAME + " (" + kernel.name() + " kernel)";
    }
}
