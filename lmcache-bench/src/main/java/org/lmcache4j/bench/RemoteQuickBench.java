package org.lmcache4j.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;

/**
 * The remote half of {@code bin/lmcache bench --quick}: the {@code remote} tier against {@code redis-benchmark}
 * on the same loopback {@code redis-server}, for values of the tier's part size, in the same run. It starts
 * its own server on a free port and stops it; without {@code redis-server} or {@code redis-benchmark} on
 * the {@code PATH} the ratios are null and {@code remote_ratio_reason} says why.
 *
 * <ul>
 *   <li>{@code remote_read_vs_redis_benchmark_ratio}: the tier's reads of whole chunks into a touched page
 *       ({@code readInto}, the promotion path) / the best {@code redis-benchmark} GET configuration over as many
 *       distinct keys ({@code -r}) as the tier reads parts, since the tier reads distinct values (GETs of one key,
 *       whose value stays in the server's CPU caches, give {@code remote_read_vs_redis_benchmark_same_key_ratio})</li>
 *   <li>{@code remote_write_vs_redis_benchmark_ratio}: the tier's puts / {@code redis-benchmark} SETs of new keys
 *       ({@code -r}), as every put writes new keys (SETs overwriting one key, which cost the server far less, give
 *       {@code remote_write_vs_redis_benchmark_overwrite_ratio})</li>
 *   <li>{@code remote_retrieve_vs_redis_benchmark_ratio}: a connector's retrieve of a prompt held only in
 *       Redis (its cpu tier's pages touched before) into engine memory / the same distinct-key GET baseline
 *       ({@code remote_retrieve_vs_redis_benchmark_same_key_ratio}: against one key's GETs)</li>
 * </ul>
 * Every figure is a median of {@value #RUNS} timed runs after warm-up.
 */
public final class RemoteQuickBench {

    static final String READ_RATIO = "remote_read_vs_redis_benchmark_ratio";
    static final String WRITE_RATIO = "remote_write_vs_redis_benchmark_ratio";
    static final String RETRIEVE_RATIO = "remote_retrieve_vs_redis_benchmark_ratio";
    static final String REASON = "remote_ratio_reason";

    private static final int RUNS = 5;
    /** {@code redis-benchmark} configurations tried: clients, pipeline depth. */
    private static final int[][] CONFIGS = {{1, 1}, {1, 4}, {4, 1}, {4, 4}, {8, 1}};

    /** Bytes of a remote value part: the remote tier's default, set explicitly in every URL this bench opens. */
    static final int PART_BYTES = 1 << 20;
    /** The remote tier's name in stats. */
    private static final String REMOTE_TIER = "remote";

    private RemoteQuickBench() {
    }

    /** Standalone: {@code RemoteQuickBench [model] [tokens]}; prints the figures as JSON. */
    public static void main(String[] args) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        run(args.length > 0 ? args[0] : "qwen2.5-0.5b", args.length > 1 ? Integer.parseInt(args[1]) : 4096, out, System.err::println);
        System.out.println(QuickBench.toJson(out));
    }

    /**
     * Measures and puts the figures into {@code out}; {@code tokens} of {@code model}'s KV make the prompt
     * retrieved (its chunks, of the model's 256 tokens, are the chunks the tier reads and writes).
     */
    public static void run(String model, int tokens, Map<String, Object> out, Consumer<String> stage) throws IOException {
        Optional<String> missing = missingTool();
        if (missing.isPresent()) {
            out.put(READ_RATIO, null);
            out.put(WRITE_RATIO, null);
            out.put(RETRIEVE_RATIO, null);
            out.put(REASON, missing.get() + " is not on the PATH");
            return;
        }
        try {
            measure(model, tokens, out, stage);
        } catch (IOException | RuntimeException e) { // the other figures of the run still count
            out.put(READ_RATIO, null);
            out.put(WRITE_RATIO, null);
            out.put(RETRIEVE_RATIO, null);
            out.put(REASON, ("failed: " + e).replace('"', '\''));
        }
    }

    private static void measure(String model, int tokens, Map<String, Object> out, Consumer<String> stage) throws IOException {
        KvLayout layout = BenchKv.layout(model);
        int partBytes = PART_BYTES;
        try (LoopbackRedis redis = LoopbackRedis.start()) {
            stage.accept("ratios: redis-benchmark GET/SET of " + (partBytes >> 10) + " KiB");
            Best get = new Best();
            Best set = new Best();
            for (int[] c : CONFIGS) {
                double[] g = new double[3];
                double[] s = new double[3];
                for (int r = 0; r < g.length; r++) {
                    double[] gs = redisBenchmark(redis.port(), partBytes, c[0], c[1]);
                    s[r] = gs[0];
                    g[r] = gs[1];
                }
                get.offer(QuickBench.median(g), c);
                set.offer(QuickBench.median(s), c);
            }
            redis.flushAll();
            double[] fresh = new double[3];
            for (int r = 0; r < fresh.length; r++) {
                fresh[r] = redisBenchmarkFreshSet(redis, partBytes);
            }
            double setFresh = QuickBench.median(fresh);
            int distinctKeys = (int) Math.ceilDiv(layout.chunkBytes(256) * (tokens / 256), partBytes);
            stage.accept("ratios: redis-benchmark GET of " + distinctKeys + " distinct keys");
            Best getDistinct = new Best();
            populate(redis.port(), partBytes, distinctKeys);
            for (int[] c : CONFIGS) {
                double[] g = new double[3];
                for (int r = 0; r < g.length; r++) {
                    g[r] = redisBenchmarkDistinctGet(redis.port(), partBytes, distinctKeys, c[0], c[1]);
                }
                getDistinct.offer(QuickBench.median(g), c);
            }
            redis.flushAll();
            stage.accept("ratios: remote tier put and readInto");
            long chunkBytes = layout.chunkBytes(256);
            double[] tier = tierThroughput(redis.url(partBytes), layout.fingerprint(), chunkBytes, tokens / 256);
            redis.flushAll();
            stage.accept("ratios: connector retrieve from the remote tier");
            double[] retrieve = connectorRetrieve(redis.url(partBytes), layout, tokens);
            redis.flushAll();
            out.put("remote_part_bytes", partBytes);
            out.put("remote_chunk_bytes", chunkBytes);
            out.put("redis_benchmark_get_gbps", QuickBench.round(get.gbps));
            out.put("redis_benchmark_get_config", get.config());
            out.put("redis_benchmark_set_gbps", QuickBench.round(set.gbps));
            out.put("redis_benchmark_set_config", set.config());
            out.put("redis_benchmark_set_new_keys_gbps", QuickBench.round(setFresh));
            out.put("remote_read_gbps", QuickBench.round(tier[1]));
            out.put("remote_write_gbps", QuickBench.round(tier[0]));
            out.put("remote_retrieve_gbps", QuickBench.round(retrieve[0]));
            out.put("remote_retrieve_bytes", (long) retrieve[1]);
            out.put("redis_benchmark_get_distinct_keys_gbps", QuickBench.round(getDistinct.gbps));
            out.put("redis_benchmark_get_distinct_keys_config", getDistinct.config() + " -r " + distinctKeys);
            // the tier reads distinct values, as many bytes as the prompt's chunks; redis-benchmark without -r GETs
            // one key, whose value stays in the server's CPU caches: the read ratios compare with GETs of as many
            // distinct keys as the tier reads parts (the same-key figures are reported too)
            out.put("remote_read_baseline", "redis-benchmark GET of " + distinctKeys + " distinct keys (-r), best of " + CONFIGS.length
                    + " configurations: the tier reads that many distinct parts");
            out.put(READ_RATIO, QuickBench.round(tier[1] / getDistinct.gbps));
            out.put("remote_read_vs_redis_benchmark_same_key_ratio", QuickBench.round(tier[1] / get.gbps));
            // every put writes new keys, which costs the server far more than overwriting one key (redis-benchmark
            // without -r): the write ratio compares with SETs of new keys, and the other figure is reported too
            out.put(WRITE_RATIO, QuickBench.round(tier[0] / setFresh));
            out.put("remote_write_baseline", "redis-benchmark SET of new keys (-r), -c 1 -P 1: as each put writes new keys");
            out.put("remote_write_vs_redis_benchmark_overwrite_ratio", QuickBench.round(tier[0] / set.gbps));
            out.put(RETRIEVE_RATIO, QuickBench.round(retrieve[0] / getDistinct.gbps));
            out.put("remote_retrieve_vs_redis_benchmark_same_key_ratio", QuickBench.round(retrieve[0] / get.gbps));
        }
    }

    /** The best throughput seen and the configuration that gave it. */
    private static final class Best {
        double gbps = -1;
        int[] config;

        void offer(double v, int[] c) {
            if (v > gbps) {
                gbps = v;
                config = c;
            }
        }

        String config() {
            return "-c " + config[0] + " -P " + config[1];
        }
    }

    /**
     * The tier's put and readInto throughput in GB/s (medians): {@code count} chunks of {@code chunkBytes},
     * put into a fresh namespace then read into one touched page each, one call at a time.
     */
    static double[] tierThroughput(String url, String fingerprint, long chunkBytes, int count) {
        double[] put = new double[RUNS];
        double[] read = new double[RUNS];
        try (Arena arena = Arena.ofShared()) {
            MemorySegment[] chunks = new MemorySegment[count];
            for (int i = 0; i < count; i++) {
                chunks[i] = arena.allocate(chunkBytes, 4096);
                fill(chunks[i], i);
            }
            MemorySegment page = arena.allocate(chunkBytes, 4096);
            page.fill((byte) 1);
            for (int run = -2; run < RUNS; run++) { // two warm-up runs
                CacheIdentity identity = new CacheIdentity(new CacheNamespace("quickbench-" + UUID.randomUUID(), fingerprint, "",
                        0, 1), 256, HashAlgorithm.SHA_256); // a fresh namespace each run
                try (StorageTier tier = StorageTiers.open(url, identity, new TierOptions(chunkBytes, 0))) {
                    List<ChunkKey> keys = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        keys.add(ChunkKey.ofHex(String.format("%064x", run + 100L * i + 7)));
                    }
                    tier.contains(keys.getFirst()); // connects and claims the namespace outside the timing
                    long t0 = System.nanoTime();
                    for (int i = 0; i < count; i++) {
                        if (!tier.put(keys.get(i), chunks[i])) {
                            throw new IllegalStateException("remote tier refused chunk " + i);
                        }
                    }
                    long t1 = System.nanoTime();
                    for (int i = 0; i < count; i++) {
                        if (tier.readInto(keys.get(i), page) != chunkBytes) {
                            throw new IllegalStateException("remote tier lost chunk " + i);
                        }
                    }
                    long t2 = System.nanoTime();
                    tier.clear();
                    if (run >= 0) {
                        put[run] = (double) count * chunkBytes / (t1 - t0);
                        read[run] = (double) count * chunkBytes / (t2 - t1);
                    }
                }
            }
        }
        return new double[] {QuickBench.median(put), QuickBench.median(read)};
    }

    /**
     * A connector's retrieve of a prompt held only in Redis, in GB/s (median), and the bytes retrieved. Two
     * prompts are stored by one connector; another, whose cpu tier holds exactly one prompt, retrieves them
     * in turn, so each retrieve finds its prompt only in Redis and reuses the pages the other touched.
     */
    static double[] connectorRetrieve(String url, KvLayout layout, int tokens) {
        long bytes = layout.chunkBytes(tokens);
        LmCacheConfig.Builder config = LmCacheConfig.builder().modelId("quickbench-remote-" + UUID.randomUUID()).noLocalDisk()
                .remoteUrl(url);
        double[] t = new double[RUNS];
        try (Arena arena = Arena.ofShared()) {
            HostKvMemory source = BenchKv.contiguous(arena, layout, tokens, 1);
            HostKvMemory target = BenchKv.contiguous(arena, layout, tokens, 2);
            int[] slots = BenchKv.identity(tokens);
            int[][] prompts = {BenchKv.tokens(11, tokens), BenchKv.tokens(12, tokens)};
            try (KvConnector writer = KvConnectors.open(config.maxLocalCpuBytes(2 * bytes + (64 << 20)).build(), layout)) {
                for (int[] p : prompts) {
                    writer.store(p, source, slots);
                }
            } // close drains the write-behind into Redis
            try (KvConnector reader = KvConnectors.open(config.maxLocalCpuBytes(bytes).build(), layout)) {
                for (int run = -4; run < RUNS; run++) {
                    int[] p = prompts[(run + 4) % 2];
                    long before = reader.stats().retrievedTokensByTier().getOrDefault(REMOTE_TIER, 0L);
                    long t0 = System.nanoTime();
                    int got = reader.retrieve(p, target, slots);
                    long nanos = System.nanoTime() - t0;
                    long fromRemote = reader.stats().retrievedTokensByTier().getOrDefault(REMOTE_TIER, 0L) - before;
                    if (got != tokens || fromRemote != tokens) {
                        throw new IllegalStateException("retrieve got " + got + " tokens, " + fromRemote + " from the remote tier"
                                + " (expected: " + tokens + ", all from the remote tier)");
                    }
                    if (run >= 0) {
                        t[run] = nanos;
                    }
                }
                reader.clear();
            }
        }
        return new double[] {bytes / QuickBench.median(t), bytes};
    }

    private static void fill(MemorySegment s, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (long off = 0; off + 8 <= s.byteSize(); off += 8) {
            s.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, off, r.nextLong());
        }
    }

    /** SET and GET throughput of one {@code redis-benchmark} run, in GB/s. */
    static double[] redisBenchmark(int port, int valueBytes, int clients, int pipeline) throws IOException {
        int requests = Math.max(200, (int) ((1L << 30) / valueBytes)); // about 1 GiB each way
        String out = LoopbackRedis.run(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(port), "-t", "set,get",
                "-d", Integer.toString(valueBytes), "-n", Integer.toString(requests), "-c", Integer.toString(clients),
                "-P", Integer.toString(pipeline), "--csv"));
        return new double[] {gbps(out, "SET", valueBytes), gbps(out, "GET", valueBytes)};
    }

    /**
     * Sets keys {@code key:000000000000} to {@code key:<keys - 1>} ({@code redis-benchmark}'s names for
     * {@code -r}) to values of {@code valueBytes}: 16 random SETs per key leave none out (each is missed
     * with odds of about e^-16; a GET of a missing key would only flatter the baseline).
     */
    static void populate(int port, int valueBytes, int keys) throws IOException {
        LoopbackRedis.run(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(port), "-t", "set", "-r",
                Integer.toString(keys), "-d", Integer.toString(valueBytes), "-n", Integer.toString(16 * keys), "-c", "4", "--csv"));
    }

    /** GET throughput of {@code redis-benchmark} in GB/s over {@code keys} distinct keys ({@code -r}, set by {@link #populate}). */
    static double redisBenchmarkDistinctGet(int port, int valueBytes, int keys, int clients, int pipeline) throws IOException {
        int requests = Math.max(200, (int) ((1L << 30) / valueBytes)); // about 1 GiB
        String out = LoopbackRedis.run(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(port), "-t", "get", "-r",
                Integer.toString(keys), "-d", Integer.toString(valueBytes), "-n", Integer.toString(requests), "-c",
                Integer.toString(clients), "-P", Integer.toString(pipeline), "--csv"));
        return gbps(out, "GET", valueBytes);
    }

    /**
     * SET throughput of {@code redis-benchmark} in GB/s when every SET writes a new key ({@code -r}), as the
     * tier's puts do; 256 MiB of values, deleted after.
     */
    static double redisBenchmarkFreshSet(LoopbackRedis redis, int valueBytes) throws IOException {
        int requests = Math.max(16, (int) ((256L << 20) / valueBytes));
        String out = LoopbackRedis.run(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(redis.port()), "-t", "set",
                "-r", "1000000000", "-d", Integer.toString(valueBytes), "-n", Integer.toString(requests), "-c", "1", "-P", "1", "--csv"));
        redis.flushAll();
        return gbps(out, "SET", valueBytes);
    }

    /** GB/s of {@code command} in {@code redis-benchmark --csv} output (requests/s times {@code valueBytes}). */
    static double gbps(String csv, String command, int valueBytes) {
        for (String line : csv.lines().toList()) {
            String[] f = line.replace("\"", "").split(",");
            if (f.length > 1 && f[0].equals(command)) {
                return Double.parseDouble(f[1]) * valueBytes / 1e9;
            }
        }
        throw new IllegalStateException("redis-benchmark: no " + command + " line in its output: " + csv);
    }

    /** The first of the tools this needs that is not on the PATH. */
    static Optional<String> missingTool() {
        for (String tool : List.of("redis-server", "redis-benchmark")) {
            boolean found = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                    .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, tool)));
            if (!found) {
                return Optional.of(tool);
            }
        }
        return Optional.empty();
    }

}
