package org.lmcache4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cpu-tier retrieve and store of one request's KV against a raw {@link MemorySegment#copy} of the same
 * bytes (the physical limit). Store rotates through more prompts than the budget holds, so it includes
 * eviction and the allocator.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx1g",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class TransferBenchmark {

    @Param({"qwen2.5-0.5b", "llama-3.1-8b"})
    public String model;

    @Param({"2048"})
    public int tokens;

    private Arena arena;
    private KvConnector connector;
    private HostKvMemory source;
    private HostKvMemory target;
    private MemorySegment flat;
    private int[] prompt;
    private int[] slots;
    private int[][] storePrompts;
    private int next;

    @Setup
    public void setUp() {
        KvLayout layout = BenchKv.layout(model);
        arena = Arena.ofShared();
        source = BenchKv.contiguous(arena, layout, tokens, 1);
        target = BenchKv.contiguous(arena, layout, tokens, 2);
        flat = arena.allocate(layout.chunkBytes(tokens), 4096);
        prompt = BenchKv.tokens(1, tokens);
        slots = BenchKv.identity(tokens);
        connector = KvConnectors.open(LmCacheConfig.builder().modelId(model).noLocalDisk()
                .maxLocalCpuBytes(3 * layout.chunkBytes(tokens)).build(), layout);
        connector.store(prompt, source, slots);
        storePrompts = new int[16][];
        for (int i = 0; i < storePrompts.length; i++) {
            storePrompts[i] = BenchKv.tokens(100 + i, tokens);
        }
    }

    @TearDown
    public void tearDown() {
        connector.close();
        arena.close();
    }

    @Benchmark
    public void rawCopy() {
        BenchKv.rawCopy(flat, target, tokens);
    }

    @Benchmark
    public int retrieveCpu() {
        return connector.retrieve(prompt, target, slots);
    }

    @Benchmark
    @Threads(2)
    public int retrieveCpuTwoThreads() {
        return connector.retrieve(prompt, target, slots);
    }

    /** Stores a prompt the cache does not hold (the budget keeps only two of the sixteen). */
    @Benchmark
    public int storeWithEviction() {
        next = (next + 1) % storePrompts.length;
        return connector.store(storePrompts[next], source, slots);
    }
}
