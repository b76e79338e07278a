package org.lmcache4j.redis;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.testing.StorageTierContract;

/**
 * What the remote tier's benchmark mains share: fill chunks, put them, time gets.
 *
 * <p>Run a benchmark from {@code lmcache-redis} after {@code ./mvnw -q install -DskipTests}:
 * <pre>
 *   ../mvnw -q -o dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 *   $(../bin/find-jdk)/bin/java --enable-native-access=ALL-UNNAMED -Xmx4g \
 *       -cp target/test-classes:target/classes:$(cat target/cp.txt) org.lmcache4j.redis.RemoteTierBenchmark
 * </pre>
 */
final class RemoteBenchmarks {

    static final String FP = "d4f6e32487754f6c";

    private RemoteBenchmarks() {
    }

    /** A tier on {@code url} with a namespace of its own. */
    static RemoteTier tier(String url) {
        return new RemoteTier(RemoteUrl.parse(url), UUID.randomUUID().toString().substring(0, 8), FP, System::nanoTime);
    }

    /** {@code bytes} of pseudo-random content in off-heap memory (KV in bf16 compresses poorly; so does this). */
    static MemorySegment chunk(Arena arena, long seed, long bytes) {
        MemorySegment s = arena.allocate(bytes, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long off = 0; off + 8 <= bytes; off += 8) {
            s.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, off, r.nextLong());
        }
        return s;
    }

    /** Puts {@code count} chunks of {@code bytes}; returns their keys and the put throughput in GB/s. */
    static List<ChunkKey> putAll(RemoteTier tier, Arena arena, int count, long bytes, double[] gbPerSecond) {
        List<ChunkKey> keys = new ArrayList<>();
        MemorySegment[] chunks = new MemorySegment[count];
        for (int i = 0; i < count; i++) {
            chunks[i] = chunk(arena, i, bytes);
            keys.add(StorageTierContract.key(i));
        }
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            if (!tier.put(keys.get(i), chunks[i])) {
                throw new IllegalStateException("put " + i + " refused");
            }
        }
        gbPerSecond[0] = (double) count * bytes / (System.nanoTime() - start);
        return keys;
    }

    /** Gets every key {@code rounds} times on one thread; GB/s of chunk bytes delivered. */
    static double getAll(RemoteTier tier, List<ChunkKey> keys, int rounds) {
        long bytes = 0;
        long start = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            for (ChunkKey k : keys) {
                try (ChunkBuffer b = tier.get(k).orElseThrow(() -> new IllegalStateException("miss of " + k))) {
                    bytes += b.sizeBytes();
                }
            }
        }
        return (double) bytes / (System.nanoTime() - start);
    }

    /** Median of {@code runs} measurements of {@code getAll}. */
    static double medianGet(RemoteTier tier, List<ChunkKey> keys, int rounds, int runs) {
        double[] r = new double[runs];
        for (int i = 0; i < runs; i++) {
            r[i] = getAll(tier, keys, rounds);
        }
        java.util.Arrays.sort(r);
        return r[runs / 2];
    }
}
