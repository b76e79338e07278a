package org.lmcache4j.codec;

import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Every call into lz4-java: blocks compressed with LZ4's fast compressor and decompressed with its safe
 * decompressor, which never writes past the length it is given and fails on a stream that would.
 *
 * <p>lz4-java's JNI build of liblz4 is used when it loads (it ships in the jar for the common platforms;
 * on JDK 24+ it wants {@code --enable-native-access} for lz4-java's module, as zstd-jni does), else its pure
 * Java safe port, probed once with one warning. Both write the same LZ4 block format. The JNI build is the
 * faster by far on shuffled bf16 KV, above all decompressing (several times); {@code CodecThroughput lz4-java}
 * in the test sources measures both. lz4-java's Unsafe port is never chosen: JDK 25 warns on
 * {@code sun.misc.Unsafe} memory access.
 */
final class Lz4Blocks implements BlockCompression {

    private static final System.Logger LOG = System.getLogger(Lz4Blocks.class.getName());

    /**
     * lz4-java's JNI build when it loads, else its pure Java port, chosen (and liblz4 loaded) when the first
     * block is compressed or decompressed, not when {@link java.util.ServiceLoader} creates the codec: a
     * process that configures another codec never loads it. The library's compressor and decompressor are
     * stateless and thread-safe: one instance serves all.
     */
    static BlockCompression fastest() {
        return FirstUse.PROXY;
    }

    private enum FirstUse implements BlockCompression {
        PROXY;

        @Override
        public Compressor openCompressor() {
            return Loaded.FASTEST.openCompressor();
        }

        @Override
        public Decompressor openDecompressor() {
            return Loaded.FASTEST.openDecompressor();
        }
    }

    private static final class Loaded {
        static final Lz4Blocks FASTEST = new Lz4Blocks(factory());
    }

    private final LZ4Compressor compressor;
    private final LZ4SafeDecompressor decompressor;
    private final Compressor openCompressor = new Compressor() {
        @Override
        public int compress(ByteBuffer src, ByteBuffer dst) {
            try {
                return compressor.compress(src, src.position(), src.remaining(), dst, dst.position(), dst.remaining());
            } catch (LZ4Exception e) { // "maxDestLen is too small": the only way compressing fails
                return -1;
            }
        }

        @Override
        public void close() {
        }
    };
    private final Decompressor openDecompressor = new Decompressor() {
        @Override
        public int decompress(ByteBuffer src, ByteBuffer dst) throws MalformedBlockException {
            try {
                return decompressor.decompress(src, src.position(), src.remaining(), dst, dst.position(), dst.remaining());
            } catch (LZ4Exception | IndexOutOfBoundsException e) { // the pure Java port may index past a bad stream's claims
                throw new MalformedBlockException(e);
            }
        }

        @Override
        public void close() {
        }
    };

    private Lz4Blocks(LZ4Factory factory) {
        this.compressor = factory.fastCompressor();
        this.decompressor = factory.safeDecompressor();
    }

    /** lz4-java's pure Java safe port whether or not its JNI build loads: for measurements and tests. */
    static Lz4Blocks pureJava() {
        return new Lz4Blocks(LZ4Factory.safeInstance());
    }

    private static LZ4Factory factory() {
        try {
            return LZ4Factory.nativeInstance();
        } catch (Throwable e) { // UnsatisfiedLinkError and the like: no JNI build for this platform or class loader
            LOG.log(System.Logger.Level.WARNING, "lz4-java's JNI library did not load (" + e + "): shuffle+lz4 uses its pure Java "
                    + "port, slower to compress and several times slower to decompress");
            return LZ4Factory.safeInstance();
        }
    }

    @Override
    public Compressor openCompressor() {
        return openCompressor;
    }

    @Override
    public Decompressor openDecompressor() {
        return openDecompressor;
    }
}
