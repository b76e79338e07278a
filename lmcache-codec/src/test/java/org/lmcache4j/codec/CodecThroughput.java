package org.lmcache4j.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.KvCodec;

/**
 * Measures ratio and one-core encode and decode speed of the lossless codecs on one chunk of synthetic
 * KV ({@link GaussianKvBytes}): the shipped settings, zstd levels, and block sizes. Not a test. Arguments:
 * [what: native, heap, mixed, levels, blocks, lz4-java or scratch (native)] [layers (24)] [KV heads (2)] [head dim (64)] [tokens (256)]
 * [dtype (BF16)]; one JVM per {@code what}, so that heap and native segments do not share one JIT profile
 * of {@link ByteShuffle}. Run, after
 * {@code ./mvnw -B -pl lmcache-codec -am install -DskipTests}:
 * <pre>
 * cd lmcache-codec &amp;&amp; flock -x /tmp/lmcache-bench.lock $(../bin/find-jdk)/bin/java --enable-native-access=ALL-UNNAMED \
 *   -cp target/classes:target/test-classes:$(../mvnw -q dependency:build-classpath -Dmdep.outputFile=/dev/stdout) \
 *   org.lmcache4j.codec.CodecThroughput
 * </pre>
 */
public final class CodecThroughput {

    private static final int ROUNDS = 40;

    private CodecThroughput() {
    }

    public static void main(String[] args) {
        String what = args.length > 0 ? args[0] : "native";
        int layers = args.length > 1 ? Integer.parseInt(args[1]) : 24;
        int heads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int headDim = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        int tokens = args.length > 4 ? Integer.parseInt(args[4]) : 256;
        KvDtype dtype = args.length > 5 ? KvDtype.valueOf(args[5]) : KvDtype.BF16;
        KvLayout layout = KvLayout.standard(layers, heads, headDim, dtype);
        try (Arena arena = Arena.ofConfined()) {
            long bytes = layout.chunkBytes(tokens);
            MemorySegment chunk = arena.allocate(bytes);
            GaussianKvBytes.fill(chunk, layout, 42);
            System.out.printf("%s, %d tokens, %d bytes, one thread, median of %d rounds%n", layout, tokens, bytes, ROUNDS);
            System.out.printf("%-34s %7s %9s %9s%n", "codec", "ratio", "enc GB/s", "dec GB/s");
            int plane = ShuffledBlockCodec.PLANE_BYTES;
            switch (what) {
                case "native", "heap" -> {
                    boolean heap = what.equals("heap");
                    run("shuffle+lz4, " + what, new ShuffleLz4Codec(), layout, chunk, arena, heap);
                    run("shuffle+zstd, " + what, new ShuffleZstdCodec(), layout, chunk, arena, heap);
                }
                case "levels" -> {
                    for (int level : new int[] {-3, -1, 1, 2, 3, 5}) {
                        run("shuffle+zstd level " + level, new ShuffleZstdCodec(level, plane), layout, chunk, arena, false);
                    }
                }
                case "blocks" -> {
                    for (int kib : new int[] {16, 64, 128, 256, 512, 1024, 4096}) {
                        int planeBytes = (kib << 10) / dtype.sizeBytes();
                        run("shuffle+lz4 block " + kib + " KiB", new ShuffleLz4Codec(planeBytes), layout, chunk, arena, false);
                        run("shuffle+zstd block " + kib + " KiB", new ShuffleZstdCodec(ShuffleZstdCodec.LEVEL, planeBytes), layout, chunk,
                                arena, false);
                    }
                }
                case "mixed" -> { // heap and native segments in one JVM, as a process with tiers of both would have
                    for (boolean heap : new boolean[] {false, true, false}) {
                        run("shuffle+lz4, " + (heap ? "heap" : "native") + " (mixed)", new ShuffleLz4Codec(), layout, chunk, arena, heap);
                        run("shuffle+zstd, " + (heap ? "heap" : "native") + " (mixed)", new ShuffleZstdCodec(), layout, chunk, arena, heap);
                    }
                }
                case "lz4-java" -> {
                    run("shuffle+lz4, lz4-java JNI", new ShuffleLz4Codec(), layout, chunk, arena, false);
                    run("shuffle+lz4, lz4-java pure Java", new ShuffleLz4Codec(Lz4Blocks.pureJava(), plane), layout, chunk, arena, false);
                }
                case "scratch" -> scratch(layout, chunk, arena);
                default -> throw new IllegalArgumentException("what: " + what
                        + " (expected: native, heap, mixed, levels, blocks, lz4-java or scratch)");
            }
        }
    }

    private static void run(String label, KvCodec codec, KvLayout layout, MemorySegment chunk, Arena arena, boolean heap) {
        long bytes = chunk.byteSize();
        long bound = codec.maxEncodedBytes(layout, bytes);
        MemorySegment src = heap ? MemorySegment.ofArray(chunk.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)) : chunk;
        MemorySegment encoded = heap ? MemorySegment.ofArray(new byte[(int) bound]) : arena.allocate(bound);
        MemorySegment decoded = heap ? MemorySegment.ofArray(new byte[(int) bytes]) : arena.allocate(bytes);
        long length = codec.encode(layout, src, encoded);
        if (length == -1) {
            System.out.printf("%-34s %7s (encode returned -1: the chunk would be stored raw)%n", label, "1.000");
            return;
        }
        for (int i = 0; i < 10; i++) { // warm up
            codec.encode(layout, src, encoded);
            codec.decode(layout, encoded.asSlice(0, length), decoded);
        }
        if (decoded.mismatch(src) != -1) {
            throw new AssertionError(label + ": decoded bytes differ");
        }
        long[] encodeNanos = new long[ROUNDS];
        long[] decodeNanos = new long[ROUNDS];
        MemorySegment stored = encoded.asSlice(0, length);
        for (int i = 0; i < ROUNDS; i++) {
            long t0 = System.nanoTime();
            codec.encode(layout, src, encoded);
            long t1 = System.nanoTime();
            codec.decode(layout, stored, decoded);
            long t2 = System.nanoTime();
            encodeNanos[i] = t1 - t0;
            decodeNanos[i] = t2 - t1;
        }
        System.out.printf("%-34s %7.3f %9.2f %9.2f%n", label, (double) bytes / length, bytes / median(encodeNanos),
                bytes / median(decodeNanos));
    }

    /**
     * What each encode and decode call pays for sharing nothing: a confined arena with three blocks of
     * scratch, and a zstd context of its own (opened, first used, closed: measured as a context per block
     * against one reused), against encoding the whole chunk.
     */
    private static void scratch(KvLayout layout, MemorySegment chunk, Arena arena) {
        long block = 2L * ShuffledBlockCodec.PLANE_BYTES;
        long[] arenaNanos = new long[ROUNDS];
        long[] contextNanos = new long[ROUNDS];
        long[] encodeNanos = new long[ROUNDS];
        KvCodec codec = new ShuffleZstdCodec();
        MemorySegment encoded = arena.allocate(codec.maxEncodedBytes(layout, chunk.byteSize()));
        BlockCompression zstd = new ZstdBlocks(ShuffleZstdCodec.LEVEL);
        BlockCompression.Compressor reused = zstd.openCompressor();
        java.nio.ByteBuffer src = chunk.asSlice(0, block).asByteBuffer();
        java.nio.ByteBuffer dst = arena.allocate(2 * block).asByteBuffer();
        for (int round = -10; round < ROUNDS; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                try (Arena scratch = Arena.ofConfined()) {
                    scratch.allocate(block);
                    scratch.allocate(block);
                    scratch.allocate(block);
                }
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < 10; i++) { // a context per block: its opening, first use and closing
                try (BlockCompression.Compressor fresh = zstd.openCompressor()) {
                    fresh.compress(src, dst.clear());
                }
            }
            long t2 = System.nanoTime();
            for (int i = 0; i < 10; i++) {
                reused.compress(src, dst.clear());
            }
            long t3 = System.nanoTime();
            codec.encode(layout, chunk, encoded);
            long t4 = System.nanoTime();
            if (round >= 0) {
                arenaNanos[round] = (t1 - t0) / 100;
                contextNanos[round] = ((t2 - t1) - (t3 - t2)) / 10;
                encodeNanos[round] = t4 - t3;
            }
        }
        reused.close();
        System.out.printf("confined arena, 3 x %d KiB allocated and freed: %.1f us; a fresh zstd context per block costs %.1f us more "
                + "than a reused one; shuffle+zstd encode of the chunk: %.0f us%n", block >> 10, median(arenaNanos) / 1e3,
                median(contextNanos) / 1e3, median(encodeNanos) / 1e3);
    }

    private static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
