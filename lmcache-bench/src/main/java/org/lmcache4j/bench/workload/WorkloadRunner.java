package org.lmcache4j.bench.workload;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.StoreHandle;

/**
 * Drives an engine's request loop through a {@link Workload} the way vLLM drives LMCache: retrieve the
 * cached prefix, prefill the rest (always the last token, for logits), store after the first token
 * (off the TTFT path, in the background while the next request computes). Without a connector it
 * measures the same loop with no cache at all.
 */
public final class WorkloadRunner {

    /**
     * One workload's figures.
     *
     * @param ttftMs        per request, in arrival order
     * @param hitTokensByTier tokens retrieved, by the tier they came from
     */
    public record Result(String name, boolean cache, int requests, long promptTokens, long hitTokens,
                         Map<String, Long> hitTokensByTier, long bytesRetrieved, long bytesStored, double wallSeconds,
                         double[] ttftMs) {

        public double ttftPercentileMs(double p) {
            double[] sorted = ttftMs.clone();
            Arrays.sort(sorted);
            return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)];
        }

        public double meanTtftMs() {
            return Arrays.stream(ttftMs).average().orElse(0);
        }

        public double requestsPerSecond() {
            return requests / wallSeconds;
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("cache", cache);
            m.put("requests", requests);
            m.put("prompt_tokens", promptTokens);
            m.put("hit_tokens", hitTokens);
            m.put("hit_tokens_by_tier", hitTokensByTier);
            m.put("ttft_ms_p50", round(ttftPercentileMs(50)));
            m.put("ttft_ms_p90", round(ttftPercentileMs(90)));
            m.put("ttft_ms_p99", round(ttftPercentileMs(99)));
            m.put("ttft_ms_mean", round(meanTtftMs()));
            m.put("requests_per_second", round(requestsPerSecond()));
            m.put("bytes_retrieved", bytesRetrieved);
            m.put("bytes_stored", bytesStored);
            return m;
        }
    }

    private WorkloadRunner() {
    }

    /** {@link #run(Workload, KvConnector, Prefill, EngineKvPool, IntConsumer)} on engine memory of its own. */
    public static Result run(Workload workload, KvConnector connector, Prefill prefill, KvLayout layout, IntConsumer progress) {
        try (EngineKvPool pool = new EngineKvPool(layout, poolSlots(workload))) {
            return run(workload, connector, prefill, pool, progress);
        }
    }

    /** The longest request of {@code workload}, in tokens. */
    public static int maxTokens(Workload workload) {
        return workload.requests().stream().mapToInt(r -> r.length).max().orElse(1);
    }

    /** The engine memory a run of {@code workload} needs: two regions of its longest request (see {@link #run}). */
    public static int poolSlots(Workload workload) {
        return 2 * maxTokens(workload);
    }

    /**
     * Runs {@code workload} on the engine memory of {@code pool} (touched once, reused by every run; at least
     * {@link #poolSlots} slots); {@code connector} null runs without a cache. {@code progress} is told the
     * number of requests done after each one.
     *
     * <p>Stores are {@code storeAsync}, issued after the first token as an engine does, and overlap the
     * next request's compute. A synthetic prefill's compute time is charged, not spent: the device would
     * compute while the host waits. So the host waits for the previous request's store within that time
     * ({@link Prefill#chargedNanos}), before the prefill writes the KV that stands in for the device's (a
     * device writes its own memory, not competing with the host's copy); that wait is part of the charged
     * time, not added to it, while any wait beyond it counts. The time the synthetic prefill takes to write
     * that KV is not counted either ({@link Prefill#countsItsOwnTime}): the device's writes are in its charged
     * time, and host work that slows the host's stand-in writes would not slow a device's. Requests alternate
     * between two regions of engine memory, as an engine's block pool has room for the next request while the last one's blocks
     * are being stored; a region is reused only after its store is done. A request that shares a chunk
     * with the one being stored waits for that store first (before its TTFT starts), so it finds those
     * chunks as it would after a synchronous store. The wall time ends when the last request has its
     * first token and its store is started, as the engine is then free (its decode, which this loop does
     * not run, would overlap the store); the last store is waited for after the clock stops, before the
     * counters are read.
     */
    public static Result run(Workload workload, KvConnector connector, Prefill prefill, EngineKvPool pool, IntConsumer progress) {
        int maxTokens = maxTokens(workload);
        double[] ttft = new double[workload.requests().size()];
        long prompt = 0;
        long hit = 0;
        CacheStats before = connector == null ? null : connector.stats();
        try (EngineKvPool.Lease lease = pool.lease(2 * maxTokens)) { // shared memory: the connector's store thread reads it
            HostKvMemory kv = lease.kv();
            StoreHandle[] storing = new StoreHandle[2];
            int[][] storingPrompt = new int[2][];
            int[] allSlots = new int[2 * maxTokens];
            Arrays.setAll(allSlots, i -> i);
            long wallStart = System.nanoTime();
            long charged = 0;
            long covered = 0;
            for (int i = 0; i < ttft.length; i++) {
                int region = i % 2;
                int previous = 1 - region;
                int[] tokens = workload.requests().get(i);
                int[] slots = Arrays.copyOfRange(allSlots, region * maxTokens, region * maxTokens + tokens.length);
                join(storing[region]); // the region's last store must be done before the prefill overwrites it
                if (storing[previous] != null && sharesAChunk(storingPrompt[previous], tokens, connector.chunkTokens())) {
                    join(storing[previous]);
                }
                long t0 = System.nanoTime();
                int cached = connector == null ? 0 : connector.retrieve(tokens, kv, slots);
                int from = Math.min(cached, tokens.length - 1);
                long waited = awaitWithin(storing[previous], prefill.chargedNanos(tokens.length, from));
                long prefillStart = System.nanoTime();
                long compute = prefill.prefill(tokens, from, kv, slots);
                long uncounted = prefill.countsItsOwnTime() ? 0 : System.nanoTime() - prefillStart;
                ttft[i] = (System.nanoTime() - t0 - waited - uncounted + compute) / 1e6;
                charged += compute;
                covered += waited + uncounted;
                if (connector != null) {
                    storing[region] = connector.storeAsync(tokens, kv, slots);
                    storingPrompt[region] = tokens;
                }
                prompt += tokens.length;
                hit += Math.min(cached, tokens.length - 1);
                progress.accept(i + 1);
            }
            double wall = (System.nanoTime() - wallStart - covered + charged) / 1e9;
            join(storing[0]);
            join(storing[1]);
            return result(workload.name(), connector, before, ttft, prompt, hit, wall);
        }
    }

    /** Waits for {@code store}, if any, to be done. */
    private static void join(StoreHandle store) {
        if (store != null) {
            store.join();
        }
    }

    /** Waits for {@code store} at most {@code nanos} (the device's compute time); the nanoseconds waited, at most {@code nanos}. */
    private static long awaitWithin(StoreHandle store, long nanos) {
        if (store == null || nanos <= 0 || store.isDone()) {
            return 0;
        }
        long start = System.nanoTime();
        try {
            store.await(Duration.ofNanos(nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Math.min(nanos, System.nanoTime() - start);
    }

    /** True when both prompts hold the same first chunk: the second would hit what the first is storing. */
    private static boolean sharesAChunk(int[] stored, int[] next, int chunkTokens) {
        return stored.length >= chunkTokens && next.length >= chunkTokens
                && Arrays.mismatch(stored, 0, chunkTokens, next, 0, chunkTokens) == -1;
    }

    /**
     * A run's result: {@code ttft} and token counts as measured by the caller; hits per tier and bytes
     * moved from the connector's counters since {@code before} (none without a connector).
     */
    public static Result result(String name, KvConnector connector, CacheStats before, double[] ttft, long promptTokens,
                                long hitTokens, double wallSeconds) {
        Map<String, Long> byTier = new LinkedHashMap<>();
        long retrievedBytes = 0;
        long storedBytes = 0;
        if (connector != null) {
            CacheStats after = connector.stats();
            after.retrievedTokensByTier().forEach((tier, n) ->
                    byTier.put(tier, n - before.retrievedTokensByTier().getOrDefault(tier, 0L)));
            retrievedBytes = after.retrievedBytes() - before.retrievedBytes();
            storedBytes = after.storedBytes() - before.storedBytes();
        }
        return new Result(name, connector != null, ttft.length, promptTokens, hitTokens, byTier, retrievedBytes, storedBytes,
                wallSeconds, ttft);
    }

    /** A contiguous engine KV cache of {@code slots} tokens. */
    public static HostKvMemory engineMemory(Arena arena, KvLayout layout, int slots) {
        List<MemorySegment> k = new ArrayList<>();
        List<MemorySegment> v = new ArrayList<>();
        for (int l = 0; l < layout.numLayers(); l++) {
            k.add(arena.allocate((long) slots * layout.rowBytes(), 4096));
            v.add(arena.allocate((long) slots * layout.rowBytes(), 4096));
        }
        return HostKvMemory.contiguous(layout, k, v);
    }

    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
