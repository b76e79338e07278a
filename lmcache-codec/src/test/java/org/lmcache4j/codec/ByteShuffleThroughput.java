package org.lmcache4j.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Measures one-core {@link ByteShuffle} speed for each element size on a 256 KiB block (the codecs'
 * block, in L2) and a 64 MiB buffer (memory-bound), native and heap. Not a test. Run, after
 * {@code ./mvnw -B -pl lmcache-codec -am install -DskipTests}:
 * <pre>
 * cd lmcache-codec &amp;&amp; flock -x /tmp/lmcache-bench.lock $(../bin/find-jdk)/bin/java -cp target/classes:target/test-classes:$(../mvnw -q \
 *   dependency:build-classpath -Dmdep.outputFile=/dev/stdout) org.lmcache4j.codec.ByteShuffleThroughput
 * </pre>
 */
public final class ByteShuffleThroughput {

    private ByteShuffleThroughput() {
    }

    public static void main(String[] args) {
        System.out.printf("%-6s %4s %10s %14s %14s%n", "memory", "e", "bytes", "shuffle GB/s", "unshuffle GB/s");
        try (Arena arena = Arena.ofConfined()) {
            for (long bytes : new long[] {256 << 10, 64 << 20}) {
                for (boolean heap : new boolean[] {false, true}) {
                    MemorySegment a = heap ? MemorySegment.ofArray(new byte[(int) bytes]) : arena.allocate(bytes);
                    MemorySegment b = heap ? MemorySegment.ofArray(new byte[(int) bytes]) : arena.allocate(bytes);
                    SplittableRandom random = new SplittableRandom(7);
                    for (long i = 0; i < bytes; i += 8) {
                        a.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
                    }
                    for (int e : new int[] {2, 4, 1}) {
                        int reps = (int) Math.max(1, (256L << 20) / bytes);
                        long[] sh = new long[15];
                        long[] un = new long[15];
                        for (int round = -5; round < sh.length; round++) {
                            long t0 = System.nanoTime();
                            for (int r = 0; r < reps; r++) {
                                ByteShuffle.shuffle(a, b, e);
                            }
                            long t1 = System.nanoTime();
                            for (int r = 0; r < reps; r++) {
                                ByteShuffle.unshuffle(b, a, e);
                            }
                            long t2 = System.nanoTime();
                            if (round >= 0) {
                                sh[round] = t1 - t0;
                                un[round] = t2 - t1;
                            }
                        }
                        System.out.printf("%-6s %4d %10d %14.2f %14.2f%n", heap ? "heap" : "native", e, bytes,
                                (double) bytes * reps / median(sh), (double) bytes * reps / median(un));
                    }
                }
            }
        }
    }

    private static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
