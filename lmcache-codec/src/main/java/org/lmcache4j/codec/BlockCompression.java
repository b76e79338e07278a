package org.lmcache4j.codec;

import java.nio.ByteBuffer;

/**
 * The compression library under a shuffled-block codec: compresses one block's shuffled bytes and
 * decompresses them back, on direct buffers. One implementation per library ({@link Lz4Blocks},
 * {@link ZstdBlocks}) holds every call into it and every check of its results.
 */
interface BlockCompression {

    /** Opens what one encode call compresses its blocks with; used by one thread, closed by the caller. */
    Compressor openCompressor();

    /** Opens what one decode call decompresses its blocks with; used by one thread, closed by the caller. */
    Decompressor openDecompressor();

    /** Compresses blocks one after another. */
    interface Compressor extends AutoCloseable {

        /**
         * Compresses {@code src} (position to limit) into {@code dst} from its position.
         *
         * @return the compressed length, or -1 when it would not fit in {@code dst}'s remaining bytes
         */
        int compress(ByteBuffer src, ByteBuffer dst);

        @Override
        void close();
    }

    /** Decompresses blocks one after another. */
    interface Decompressor extends AutoCloseable {

        /**
         * Decompresses {@code src} (position to limit) into {@code dst} from its position, writing no
         * further than its limit.
         *
         * @return the decompressed length
         * @throws MalformedBlockException when {@code src} is not one compressed block that fits in {@code dst}
         */
        int decompress(ByteBuffer src, ByteBuffer dst) throws MalformedBlockException;

        @Override
        void close();
    }
}
