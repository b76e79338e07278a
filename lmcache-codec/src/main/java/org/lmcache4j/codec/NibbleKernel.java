package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes the codes and other bytes of a {@link NibbleCoding} block into its elements, exceptions aside.
 * {@link #best()} is the Vector API's kernel when the JVM runs with {@code --add-modules
 * jdk.incubator.vector} (as {@code bin/lmcache} does), once compiled ({@link WarmingNibbleKernel}), else the
 * scalar one: a library must not require an incubator module, and the scalar kernel decodes the same bytes
 * (a sixth as fast here; see {@link ShuffleNibbleCodec}).
 */
interface NibbleKernel {

    /** The system property that turns the Vector API's kernel off ({@code false}) even where it is present. */
    String VECTOR_PROPERTY = "lmcache.codec.vector";

    /**
     * Decodes groups {@code [0, groups)} (32 two-byte elements each) of the coded block {@code stored}
     * into {@code block}, its other bytes starting at {@code restAt}.
     */
    void decodePairs(MemorySegment stored, MemorySegment block, int groups, long restAt);

    /** The kernel's name in logs and benchmarks. */
    String name();

    /** Gets ready for decodes to come (called when an encode or a decode starts); nothing by default. */
    default void prepare() {
    }

    /** The scalar kernel. */
    NibbleKernel SCALAR = new NibbleKernel() {
        @Override
        public void decodePairs(MemorySegment stored, MemorySegment block, int groups, long restAt) {
            scalar(stored, block, 2, (int) (block.byteSize() / 2), 0, groups); // restAt follows from the block's length
        }

        @Override
        public String name() {
            return "scalar";
        }
    };

    /** The fastest kernel this JVM runs (see the class comment). */
    static NibbleKernel best() {
        return Best.KERNEL;
    }

    /**
     * Decodes groups {@code [from, to)} of a block of {@code n} elements of {@code e} bytes, one element at
     * a time: any element size, and the last group of a block, which may be short.
     */
    static void scalar(MemorySegment stored, MemorySegment block, int e, int n, int from, int to) {
        long rest = NibbleCoding.restAt(n);
        for (int g = from; g < to; g++) {
            for (int j = 0; j < 16; j++) {
                int packed = Byte.toUnsignedInt(stored.get(ValueLayout.JAVA_BYTE, NibbleCoding.HEADER_BYTES + 16L * g + j));
                for (int half = 0; half < 2; half++) {
                    int i = NibbleCoding.GROUP * g + j + 16 * half;
                    if (i >= n) {
                        continue;
                    }
                    int code = half == 0 ? packed & 0xF : packed >>> 4;
                    if (e > 1) {
                        MemorySegment.copy(stored, rest + (long) i * (e - 1), block, (long) i * e, e - 1);
                    }
                    block.set(ValueLayout.JAVA_BYTE, (long) i * e + e - 1, stored.get(ValueLayout.JAVA_BYTE, code));
                }
            }
        }
    }

    /** Holds the kernel {@link #best()} chose, chosen on first use. */
    final class Best {
        static final NibbleKernel KERNEL = choose();

        private Best() {
        }

        private static NibbleKernel choose() {
            Logger log = LoggerFactory.getLogger(NibbleKernel.class);
            if (!Boolean.parseBoolean(System.getProperty(VECTOR_PROPERTY, "true"))) {
                log.info("shuffle+nibble decodes on its scalar kernel: -D{}=false", VECTOR_PROPERTY);
                return SCALAR;
            }
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                log.info("shuffle+nibble decodes on its scalar kernel, about a sixth as fast as on the Vector API's: run the JVM"
                        + " with --add-modules jdk.incubator.vector to use it");
                return SCALAR;
            }
            try {
                return new WarmingNibbleKernel(
                        (NibbleKernel) Class.forName("org.lmcache4j.codec.VectorNibbleKernel").getDeclaredConstructor().newInstance());
            } catch (ReflectiveOperationException | LinkageError e) {
                log.warn("shuffle+nibble decodes on its scalar kernel: the Vector API's kernel did not load", e);
                return SCALAR;
            }
        }
    }
}
