package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.KvCodec;

/** The lossless codecs under test and the chunk contents they are tested on. */
final class LosslessCodecs {

    /** A standard layout whose chunks of 256 tokens end in a short block for every dtype (1152 elements a token). */
    static final int LAYERS = 3;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 96;
    /** An MLA layout of DeepSeek's latent width (576 elements a token and layer). */
    static final int LATENT_DIM = 576;

    private LosslessCodecs() {
    }

    /**
     * The lossless codecs, {@code shuffle+nibble} on both kernels and with the blocks of the shuffling codecs
     * (128 Ki elements), so the tests of a chunk's block structure hold for all; {@link ShuffleNibbleCodecTest}
     * covers its own block size.
     */
    static List<KvCodec> all() {
        return List.of(new ShuffleLz4Codec(), new ShuffleZstdCodec(), nibble(new VectorNibbleKernel(), ShuffledBlockCodec.PLANE_BYTES),
                nibble(NibbleKernel.SCALAR, ShuffledBlockCodec.PLANE_BYTES));
    }

    /** {@code shuffle+nibble} on {@code kernel} with blocks of {@code elements}. */
    static ShuffleNibbleCodec nibble(NibbleKernel kernel, int elements) {
        return new ShuffleNibbleCodec(kernel, elements);
    }

    static KvLayout layout(KvDtype dtype, boolean mla) {
        return mla ? KvLayout.mla(LAYERS, LATENT_DIM, dtype) : KvLayout.standard(LAYERS, KV_HEADS, HEAD_DIM, dtype);
    }

    /** What a chunk holds. */
    enum Content {
        RANDOM, ZEROS, CONSTANT, GAUSSIAN, SPECIALS, GAUSSIAN_WITH_SPECIALS;

        /** Whether every codec must shrink a chunk of this content (it repeats). */
        boolean compressible() {
            return this == ZEROS || this == CONSTANT || this == SPECIALS;
        }

        void fill(MemorySegment chunk, KvLayout layout, long seed) {
            int e = layout.dtype().sizeBytes();
            long n = chunk.byteSize() / e;
            long[] specials = specials(layout.dtype());
            switch (this) {
                case RANDOM -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    for (long i = 0; i < chunk.byteSize(); i++) {
                        chunk.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
                    }
                }
                case ZEROS -> chunk.fill((byte) 0);
                case CONSTANT -> {
                    for (long i = 0; i < n; i++) {
                        GaussianKvBytes.put(chunk, layout.dtype(), i, 0.3125f);
                    }
                }
                case GAUSSIAN -> GaussianKvBytes.fill(chunk, layout, seed);
                case SPECIALS -> {
                    for (long i = 0; i < n; i++) {
                        putBits(chunk, e, i, specials[(int) (i % specials.length)]);
                    }
                }
                case GAUSSIAN_WITH_SPECIALS -> {
                    GaussianKvBytes.fill(chunk, layout, seed);
                    for (long i = 0; i < n; i += 5) {
                        putBits(chunk, e, i, specials[(int) (i / 5 % specials.length)]);
                    }
                }
            }
        }
    }

    /** NaNs with payloads (quiet and signalling), -0.0, infinities, subnormals and extremes of {@code dtype}, as bits. */
    static long[] specials(KvDtype dtype) {
        return switch (dtype) {
            case FP32 -> new long[] {0x7FC00001L, 0x7F800001L, 0xFFFFFFFFL, 0x7FBFFFFFL, 0x80000000L, 0x7F800000L, 0xFF800000L,
                0x00000001L, 0x807FFFFFL, 0x00400000L, 0x7F7FFFFFL};
            case FP16 -> new long[] {0x7E01, 0x7C01, 0xFFFF, 0x8000, 0x7C00, 0xFC00, 0x0001, 0x83FF, 0x7BFF};
            case BF16 -> new long[] {0x7FC1, 0x7F81, 0xFFFF, 0x8000, 0x7F80, 0xFF80, 0x0001, 0x807F, 0x7F7F};
            case FP8_E4M3 -> new long[] {0x7F, 0xFF, 0x80, 0x01, 0x87, 0x7E, 0xFE};
            case FP8_E5M2 -> new long[] {0x7D, 0x7E, 0xFF, 0x7C, 0xFC, 0x80, 0x01, 0x83, 0x7B};
        };
    }

    private static void putBits(MemorySegment chunk, int e, long index, long bits) {
        switch (e) {
            case 4 -> chunk.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4 * index, (int) bits);
            case 2 -> chunk.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2 * index, (short) bits);
            default -> chunk.set(ValueLayout.JAVA_BYTE, index, (byte) bits);
        }
    }
}
