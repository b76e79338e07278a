package org.lmcache4j.codec;

/**
 * {@code shuffle+lz4} (id 1): each block of a chunk (128 Ki elements: 256 KiB of bf16) byte-shuffled into planes and compressed with
 * LZ4, for tiers where encode speed matters more than size (a local disk the writer must keep up with).
 * Lossless for every dtype and bit pattern; the encoding is described in {@link BlockTable}.
 *
 * <p>On synthetic bf16 KV (Gaussian, per-channel scales; 24 layers, 2 KV heads, 64 dims, 256 tokens =
 * 3 MiB), one core of a shared 2-core AMD EPYC VM, native segments: ratio 1.107, encode 0.51-0.69 GB/s,
 * decode 1.95-2.78 GB/s, against {@code shuffle+zstd}'s 1.416, 0.37-0.54 and 1.15-1.67 GB/s. Its ratio
 * hardly moves with the block size (1.10-1.13 from 16 KiB to 4 MiB). About half of a decode is the
 * unshuffle ({@link ByteShuffle}). LZ4 has no entropy coding, so it gains only where whole byte runs
 * repeat: bf16's sign-and-exponent plane does (1.107), fp32 barely (1.045), and fp16 and both fp8 KV of
 * the same shape did not shrink at all ({@code encode} returned -1 after compressing every block, which
 * a tier pays for nothing: configure {@code shuffle+zstd}, or none, for them). Command:
 * {@code CodecThroughput native [layers heads dim tokens dtype]} (see {@link ShuffleZstdCodec}).
 */
public final class ShuffleLz4Codec extends ShuffledBlockCodec {

    /** The configured name. */
    public static final String NAME = "shuffle+lz4";
    /** The id stored with each chunk. */
    public static final int ID = 1;

    /** Creates the codec; {@link java.util.ServiceLoader} calls this. Instances share nothing mutable. */
    public ShuffleLz4Codec() {
        this(PLANE_BYTES);
    }

    /** A codec of other block sizes ({@code planeBytes} elements a block), for measurements and tests; every instance reads what it writes. */
    ShuffleLz4Codec(int planeBytes) {
        this(Lz4Blocks.fastest(), planeBytes);
    }

    /** A codec on another build of lz4-java (its pure Java port), for measurements and tests. */
    ShuffleLz4Codec(BlockCompression lz4, int planeBytes) {
        super(NAME, ID, new ShuffledCompression(lz4), planeBytes);
    }
}
