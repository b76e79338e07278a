package org.lmcache4j.bench;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Lookups from 8 threads at once with partial tails on ({@code saveUnfullChunk}): every lookup finds 4
 * full chunks and misses the 5th, so it also asks which partial chunks are stored behind the 4th (the
 * map of partial tails), the path that every lookup of a longer prompt takes. Throughput in lookups per
 * millisecond over all threads; compare commits by running it on each.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(8)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class ConcurrentLookupBenchmark {

    private static final int CHUNK = 256;
    private static final int PROMPTS = 64;

    private Arena arena;
    private KvConnector connector;
    private int[][] lookups;
    private final AtomicInteger next = new AtomicInteger();

    @Setup
    public void setUp() {
        KvLayout layout = BenchKv.layout("tiny");
        int stored = 4 * CHUNK + 100;
        LmCacheConfig config = LmCacheConfig.builder().modelId("concurrent-lookup").noLocalDisk().saveUnfullChunk(true)
                .maxLocalCpuBytes(2L * PROMPTS * layout.chunkBytes(5 * CHUNK)).build();
        arena = Arena.ofShared();
        connector = KvConnectors.open(config, layout);
        HostKvMemory kv = BenchKv.contiguous(arena, layout, stored, 3);
        lookups = new int[PROMPTS][];
        for (int p = 0; p < PROMPTS; p++) {
            int[] prompt = BenchKv.tokens(p + 1, stored);
            connector.store(prompt, kv, BenchKv.identity(stored));
            int[] longer = Arrays.copyOf(prompt, 5 * CHUNK + 50); // another continuation after the 4 full chunks
            System.arraycopy(BenchKv.tokens(1000 + p, longer.length - 4 * CHUNK), 0, longer, 4 * CHUNK, longer.length - 4 * CHUNK);
            lookups[p] = longer;
        }
        if (connector.lookup(lookups[0]) != 4 * CHUNK) {
            throw new IllegalStateException("setup: expected 4 full chunks to hit, got " + connector.lookup(lookups[0]));
        }
    }

    @TearDown
    public void tearDown() {
        connector.close();
        arena.close();
    }

    @Benchmark
    public int lookupMissingAfterFourChunks() {
        return connector.lookup(lookups[Math.floorMod(next.getAndIncrement(), PROMPTS)]);
    }
}
