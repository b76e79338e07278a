package org.lmcache4j.codec;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.nio.ByteBuffer;

/**
 * Every call into zstd-jni: each block one zstd frame (with its content size) made by a compression
 * context that one encode call opens at {@link #level} and reuses for its blocks; decompressed by a context
 * that one decode call opens, into exactly the block's logical length. A context of one's own cost 7 us
 * more per call than a reused one ({@code CodecThroughput scratch}), against the 6 ms a 3 MiB chunk of
 * bf16 took to encode, and leaves no native memory behind a thread, virtual or not. zstd-jni needs direct buffers and, on JDK 24+,
 * {@code --enable-native-access} for its module.
 */
final class ZstdBlocks implements BlockCompression {

    private final int level;

    /** @param level the zstd compression level */
    ZstdBlocks(int level) {
        this.level = level;
    }

    /** The compression level. */
    int level() {
        return level;
    }

    @Override
    public Compressor openCompressor() {
        ZstdCompressCtx context = new ZstdCompressCtx().setLevel(level);
        return new Compressor() {
            @Override
            public int compress(ByteBuffer src, ByteBuffer dst) {
                try {
                    return context.compressDirectByteBuffer(dst, dst.position(), dst.remaining(), src, src.position(), src.remaining());
                } catch (ZstdException e) {
                    if (e.getErrorCode() == Zstd.errDstSizeTooSmall()) {
                        return -1;
                    }
                    throw e;
                }
            }

            @Override
            public void close() {
                context.close();
            }
        };
    }

    @Override
    public Decompressor openDecompressor() {
        ZstdDecompressCtx context = new ZstdDecompressCtx();
        return new Decompressor() {
            @Override
            public int decompress(ByteBuffer src, ByteBuffer dst) throws MalformedBlockException {
                try {
                    return context.decompressDirectByteBuffer(dst, dst.position(), dst.remaining(), src, src.position(), src.remaining());
                } catch (ZstdException e) {
                    throw new MalformedBlockException(e);
                }
            }

            @Override
            public void close() {
                context.close();
            }
        };
    }
}
