package org.lmcache4j.bench;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.storage.keys.PrefixKeys;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Lookup latency against prompt length for each hash algorithm: a full hit (every chunk hashed and
 * found) and a first-chunk miss (one chunk hashed). Divide by {@code promptTokens / 256} for the cost
 * per chunk; {@code hashOnly} separates hashing from the index.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class LookupBenchmark {

    @Param({"1024", "8192", "32768", "131072"})
    public int promptTokens;

    @Param({"SHA_256", "XXH3_128"})
    public HashAlgorithm algorithm;

    private Arena arena;
    private KvConnector connector;
    private PrefixKeys keys;
    private int[] hit;
    private int[] miss;

    @Setup
    public void setUp() {
        KvLayout layout = BenchKv.layout("tiny");
        LmCacheConfig config = LmCacheConfig.builder().modelId("lookup").hashAlgorithm(algorithm).noLocalDisk()
                .maxLocalCpuBytes(2 * layout.chunkBytes(promptTokens) + (64 << 20)).build();
        arena = Arena.ofShared();
        connector = KvConnectors.open(config, layout);
        keys = PrefixKeys.of(config, layout);
        hit = BenchKv.tokens(1, promptTokens);
        miss = BenchKv.tokens(2, promptTokens);
        HostKvMemory kv = BenchKv.contiguous(arena, layout, promptTokens, 3);
        connector.store(hit, kv, BenchKv.identity(promptTokens));
    }

    @TearDown
    public void tearDown() {
        connector.close();
        arena.close();
    }

    @Benchmark
    public int lookupFullHit() {
        return connector.lookup(hit);
    }

    @Benchmark
    public int lookupFirstChunkMiss() {
        return connector.lookup(miss);
    }

    @Benchmark
    public int hashOnly() {
        return keys.keys(hit).size();
    }
}
