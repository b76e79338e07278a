package org.lmcache4j.bench.workload;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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

/**
 * Drives an engine's request loop through a {@link Workload} the way vLLM drives LMCache: retrieve the
 * cached prefix, prefill the rest (always the last token, for logits), store after the first token
 * (off the TTFT path). Without a connector it measures the same loop with no cache at all.
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
        try (EngineKvPool pool = new EngineKvPool(layout, maxTokens(workload))) {
            return run(workload, connector, prefill, pool, progress);
        }
    }

    /** The longest request of {@code workload}, in tokens. */
    public static int maxTokens(Workload workload) {
        return workload.requests().stream().mapToInt(r -> r.length).max().orElse(1);
    }

    /**
     * Runs {@code workload} on the engine memory of {@code pool} (touched once, reused by every run);
     * {@code connector} null runs without a cache. {@code progress} is told the number of requests done
     * after each one.
     */
    public static Result run(Workload workload, KvConnector connector, Prefill prefill, EngineKvPool pool, IntConsumer progress) {
        int maxTokens = maxTokens(workload);
        double[] ttft = new double[workload.requests().size()];
        long prompt = 0;
        long hit = 0;
        CacheStats before = connector == null ? null : connector.stats();
        long wallStart = System.nanoTime();
        long charged = 0;
        try (EngineKvPool.Lease lease = pool.lease(maxTokens)) {
            HostKvMemory kv = lease.kv();
            int[] allSlots = new int[maxTokens];
            Arrays.setAll(allSlots, i -> i);
            for (int i = 0; i < ttft.length; i++) {
                int[] tokens = workload.requests().get(i);
                int[] slots = Arrays.copyOf(allSlots, tokens.length);
                long t0 = System.nanoTime();
                int cached = connector == null ? 0 : connector.retrieve(tokens, kv, slots);
                long compute = prefill.prefill(tokens, Math.min(cached, tokens.length - 1), kv, slots);
                ttft[i] = (System.nanoTime() - t0 + compute) / 1e6;
                charged += compute;
                if (connector != null) {
                    connector.store(tokens, kv, slots);
                }
                prompt += tokens.length;
                hit += Math.min(cached, tokens.length - 1);
                progress.accept(i + 1);
            }
        }
        double wall = (System.nanoTime() - wallStart + charged) / 1e9;
        return result(workload.name(), connector, before, ttft, prompt, hit, wall);
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
