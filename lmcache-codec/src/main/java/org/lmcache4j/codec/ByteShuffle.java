package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Regroups the bytes of {@code n} elements of {@code e} bytes into {@code e} planes (byte 0 of every
 * element, then byte 1, ...) and back: the byte shuffle of Blosc and HDF5. In KV of 16- or 32-bit floats
 * the plane of high bytes (sign and exponent) repeats a few values and compresses well, while the
 * mantissa planes are near-random; interleaved, a compressor sees neither.
 *
 * <p>Implementation notes. Eight elements at a time are read as {@code e} little-endian {@code long}s and
 * written as one {@code long} per plane, the bytes moved by shift-and-mask steps in registers (no
 * {@code jdk.incubator.vector}); the {@code n % 8} elements left go byte by byte. A 4-byte element is
 * moved as two 2-byte halves: its low halves shuffled as 2-byte elements give planes 0 and 1, its high
 * halves planes 2 and 3. Source and destination may be heap or native segments and must not overlap.
 *
 * <p>Speed, one core of a shared 2-core AMD EPYC VM, JDK 25, a 256 KiB block (the codecs' block of 16-bit KV, in L2)
 * between native segments: 2-byte elements 3.5-3.7 GB/s shuffled, 4.5-4.8 GB/s unshuffled; 4-byte
 * elements 2.1-2.3 and 2.5-2.6 GB/s; 1-byte elements are a copy. That is near what shift-and-mask can do
 * (about 2 ALU operations a byte) and, for 2-byte KV, about the speed of LZ4 decompression, so a decode
 * spends about as long unshuffling as decompressing. Once the same loop has also run on heap segments it
 * ran at 1.1-1.7 GB/s (a polymorphic JIT profile): the codecs hand it native segments only. Command:
 * <pre>
 * ./mvnw -B -pl lmcache-codec -am install -DskipTests &amp;&amp; cd lmcache-codec &amp;&amp; flock -x /tmp/lmcache-bench.lock \
 *   $(../bin/find-jdk)/bin/java -cp target/classes:target/test-classes:$(../mvnw -q dependency:build-classpath \
 *   -Dmdep.outputFile=/dev/stdout) org.lmcache4j.codec.ByteShuffleThroughput
 * </pre>
 */
final class ByteShuffle {

    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long EVEN_BYTES = 0x00FF00FF00FF00FFL;
    private static final long EVEN_SHORTS = 0x0000FFFF0000FFFFL;
    private static final long LOW_INT = 0x00000000FFFFFFFFL;

    private ByteShuffle() {
    }

    /**
     * Writes the {@code elementBytes} planes of {@code src} into {@code dst}: plane {@code k} (byte
     * {@code k} of every element, in element order) at {@code dst[k * n ...]}, {@code n} being
     * {@code src.byteSize() / elementBytes}.
     *
     * @throws IllegalArgumentException when {@code elementBytes} is not 1, 2 or 4, {@code src} is not whole
     *                                  elements, or {@code dst} is not the size of {@code src}
     */
    static void shuffle(MemorySegment src, MemorySegment dst, int elementBytes) {
        long n = elements(src, dst, elementBytes);
        switch (elementBytes) {
            case 1 -> MemorySegment.copy(src, 0, dst, 0, n);
            case 2 -> shuffle2(src, dst, n);
            default -> shuffle4(src, dst, n);
        }
    }

    /** The inverse of {@link #shuffle}: reads planes from {@code src}, writes elements to {@code dst}. */
    static void unshuffle(MemorySegment src, MemorySegment dst, int elementBytes) {
        long n = elements(src, dst, elementBytes);
        switch (elementBytes) {
            case 1 -> MemorySegment.copy(src, 0, dst, 0, n);
            case 2 -> unshuffle2(src, dst, n);
            default -> unshuffle4(src, dst, n);
        }
    }

    private static long elements(MemorySegment src, MemorySegment dst, int elementBytes) {
        if (elementBytes != 1 && elementBytes != 2 && elementBytes != 4) {
            throw new IllegalArgumentException("elementBytes: " + elementBytes + " (expected: 1, 2 or 4)");
        }
        long size = src.byteSize();
        if (size % elementBytes != 0 || dst.byteSize() != size) {
            throw new IllegalArgumentException("src: " + size + " bytes, dst: " + dst.byteSize() + " bytes (expected: equal sizes, whole "
                    + elementBytes + "-byte elements)");
        }
        return size / elementBytes;
    }

    private static void shuffle2(MemorySegment src, MemorySegment dst, long n) {
        long whole = n & ~7L;
        for (long i = 0; i < whole; i += 8) {
            long a = src.get(WORD, 2 * i);
            long b = src.get(WORD, 2 * i + 8);
            dst.set(WORD, i, packEvenBytes(a) | packEvenBytes(b) << 32);
            dst.set(WORD, n + i, packEvenBytes(a >>> 8) | packEvenBytes(b >>> 8) << 32);
        }
        shuffleTail(src, dst, n, whole, 2);
    }

    private static void unshuffle2(MemorySegment src, MemorySegment dst, long n) {
        long whole = n & ~7L;
        for (long i = 0; i < whole; i += 8) {
            long p0 = src.get(WORD, i);
            long p1 = src.get(WORD, n + i);
            dst.set(WORD, 2 * i, spreadToEvenBytes(p0) | spreadToEvenBytes(p1) << 8);
            dst.set(WORD, 2 * i + 8, spreadToEvenBytes(p0 >>> 32) | spreadToEvenBytes(p1 >>> 32) << 8);
        }
        unshuffleTail(src, dst, n, whole, 2);
    }

    private static void shuffle4(MemorySegment src, MemorySegment dst, long n) {
        long whole = n & ~7L;
        for (long i = 0; i < whole; i += 8) {
            long a = src.get(WORD, 4 * i);
            long b = src.get(WORD, 4 * i + 8);
            long c = src.get(WORD, 4 * i + 16);
            long d = src.get(WORD, 4 * i + 24);
            // the low and high 2-byte halves of elements 0-3 and 4-7
            long low03 = packEvenShorts(a) | packEvenShorts(b) << 32;
            long low47 = packEvenShorts(c) | packEvenShorts(d) << 32;
            long high03 = packEvenShorts(a >>> 16) | packEvenShorts(b >>> 16) << 32;
            long high47 = packEvenShorts(c >>> 16) | packEvenShorts(d >>> 16) << 32;
            dst.set(WORD, i, packEvenBytes(low03) | packEvenBytes(low47) << 32);
            dst.set(WORD, n + i, packEvenBytes(low03 >>> 8) | packEvenBytes(low47 >>> 8) << 32);
            dst.set(WORD, 2 * n + i, packEvenBytes(high03) | packEvenBytes(high47) << 32);
            dst.set(WORD, 3 * n + i, packEvenBytes(high03 >>> 8) | packEvenBytes(high47 >>> 8) << 32);
        }
        shuffleTail(src, dst, n, whole, 4);
    }

    private static void unshuffle4(MemorySegment src, MemorySegment dst, long n) {
        long whole = n & ~7L;
        for (long i = 0; i < whole; i += 8) {
            long p0 = src.get(WORD, i);
            long p1 = src.get(WORD, n + i);
            long p2 = src.get(WORD, 2 * n + i);
            long p3 = src.get(WORD, 3 * n + i);
            long low03 = spreadToEvenBytes(p0) | spreadToEvenBytes(p1) << 8;
            long low47 = spreadToEvenBytes(p0 >>> 32) | spreadToEvenBytes(p1 >>> 32) << 8;
            long high03 = spreadToEvenBytes(p2) | spreadToEvenBytes(p3) << 8;
            long high47 = spreadToEvenBytes(p2 >>> 32) | spreadToEvenBytes(p3 >>> 32) << 8;
            dst.set(WORD, 4 * i, spreadToEvenShorts(low03) | spreadToEvenShorts(high03) << 16);
            dst.set(WORD, 4 * i + 8, spreadToEvenShorts(low03 >>> 32) | spreadToEvenShorts(high03 >>> 32) << 16);
            dst.set(WORD, 4 * i + 16, spreadToEvenShorts(low47) | spreadToEvenShorts(high47) << 16);
            dst.set(WORD, 4 * i + 24, spreadToEvenShorts(low47 >>> 32) | spreadToEvenShorts(high47 >>> 32) << 16);
        }
        unshuffleTail(src, dst, n, whole, 4);
    }

    /** Bytes 0, 2, 4, 6 of {@code x} as bytes 0-3 of the result, the upper half zero. */
    private static long packEvenBytes(long x) {
        x &= EVEN_BYTES;
        x = (x | x >>> 8) & EVEN_SHORTS;
        return (x | x >>> 16) & LOW_INT;
    }

    /** Bytes 0-3 of {@code x} as bytes 0, 2, 4, 6 of the result, the odd bytes zero. */
    private static long spreadToEvenBytes(long x) {
        x &= LOW_INT;
        x = (x | x << 16) & EVEN_SHORTS;
        return (x | x << 8) & EVEN_BYTES;
    }

    /** 2-byte units 0 and 2 of {@code x} as units 0 and 1 of the result, the upper half zero. */
    private static long packEvenShorts(long x) {
        x &= EVEN_SHORTS;
        return (x | x >>> 16) & LOW_INT;
    }

    /** 2-byte units 0 and 1 of {@code x} as units 0 and 2 of the result, units 1 and 3 zero. */
    private static long spreadToEvenShorts(long x) {
        x &= LOW_INT;
        return (x | x << 16) & EVEN_SHORTS;
    }

    private static void shuffleTail(MemorySegment src, MemorySegment dst, long n, long from, int e) {
        for (long i = from; i < n; i++) {
            for (int k = 0; k < e; k++) {
                dst.set(ValueLayout.JAVA_BYTE, k * n + i, src.get(ValueLayout.JAVA_BYTE, e * i + k));
            }
        }
    }

    private static void unshuffleTail(MemorySegment src, MemorySegment dst, long n, long from, int e) {
        for (long i = from; i < n; i++) {
            for (int k = 0; k < e; k++) {
                dst.set(ValueLayout.JAVA_BYTE, e * i + k, src.get(ValueLayout.JAVA_BYTE, k * n + i));
            }
        }
    }
}
