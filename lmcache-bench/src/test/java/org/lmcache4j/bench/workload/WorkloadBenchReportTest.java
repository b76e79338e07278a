package org.lmcache4j.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

/**
 * The report says what ran: the engine's model shape and its measured prefill rate, or the synthetic
 * shape and its assumed rate (regression: the reference engine's SmolLM-135M run was labelled
 * {@code model_shape: qwen2.5-1.5b} with {@code prefill_tokens_per_second: 25000}, the connector-only
 * defaults); and its top-level figures are the medians of their {@code _runs}.
 */
class WorkloadBenchReportTest {

    private static final KvLayout SMOLLM = KvLayout.standard(30, 3, 64, KvDtype.FP32);

    @TempDir
    Path dir;

    private static WorkloadRunner.Result result(String name, boolean cache, double... ttftMs) {
        double wall = java.util.Arrays.stream(ttftMs).sum() / 1000;
        return new WorkloadRunner.Result(name, cache, ttftMs.length, 1000L * ttftMs.length, 0, Map.of(), 0, 0, wall, ttftMs);
    }

    private static List<BenchReport.Pair> pairs(double noCacheMs) {
        return List.of(new BenchReport.Pair(result("multi_round_qa", true, 100, 100), result("multi_round_qa", false, noCacheMs, noCacheMs)),
                new BenchReport.Pair(result("miss_only", true, 1010), result("miss_only", false, 1000)));
    }

    @Test
    void aRealEngineIsLabelledWithItsOwnShapeAndItsMeasuredPrefillRate() throws Exception {
        WorkloadBench.Options o = WorkloadBench.Options.parse(new String[] {"--dir", dir.toString(), "--repeat", "3"});
        assertEquals("qwen2.5-1.5b", o.model(), "the connector-only default, which a real engine must not report");
        RunSeries series = new RunSeries();
        for (double ms : new double[] {2000, 500, 1000}) { // 3,000 prompt tokens in 5, 2 and 3 s: 600, 1,500 and 1,000 tokens/s
            series.add("prefill_tokens_per_second", WorkloadBench.measuredPrefillRate(pairs(ms)));
        }
        Map<String, Object> report = WorkloadBench.report(o, BenchSubject.measured("reference engine smollm-135m", "smollm-135m"),
                SMOLLM, series, null, pairs(1000));
        assertEquals("smollm-135m", report.get("model_shape"));
        assertEquals("reference engine smollm-135m", report.get("engine"));
        assertEquals(SMOLLM.bytesPerToken(), report.get("bytes_per_token"));
        assertEquals(1000.0, report.get("prefill_tokens_per_second"), "the median of the measured rates");
        assertTrue(((String) report.get("prefill_rate")).startsWith("measured"), report.toString());
    }

    @Test
    void theMeasuredPrefillRateIsEveryNoCachePromptTokenOverTheirSummedTtft() {
        // 2 x 1,000 tokens in 2 x 400 ms, and 1,000 tokens in 1,000 ms: 3,000 tokens in 1.8 s
        assertEquals(3000 / 1.8, WorkloadBench.measuredPrefillRate(pairs(400)), 1e-9);
    }

    @Test
    void theSyntheticPrefillIsLabelledAssumedWithItsRate() throws Exception {
        WorkloadBench.Options o = WorkloadBench.Options.parse(new String[] {"--dir", dir.toString(), "--model", "llama-3.1-8b"});
        RunSeries series = new RunSeries();
        series.add("prefill_tokens_per_second", o.prefillTokensPerSecond());
        Map<String, Object> report = WorkloadBench.report(o, BenchSubject.assumed("synthetic", o.model(), o.prefillTokensPerSecond()),
                SMOLLM, series, null, pairs(1000));
        assertEquals("llama-3.1-8b", report.get("model_shape"));
        assertEquals(8000.0, report.get("prefill_tokens_per_second"));
        assertTrue(((String) report.get("prefill_rate")).startsWith("assumed"), report.toString());
    }

    @Test
    void topLevelFiguresAreTheMediansOfTheirRuns() throws Exception {
        WorkloadBench.Options o = WorkloadBench.Options.parse(new String[] {"--dir", dir.toString(), "--repeat", "3", "--quick"});
        RunSeries series = new RunSeries();
        double[][] runs = {{1.2, 1.1, 1.3, 2.0, 1.05, 4.0}, {1.1, 1.5, 1.2, 2.2, 1.01, 5.0}, {1.3, 1.2, 1.1, 2.1, 1.02, 4.5}};
        List<String> fields = List.of("retrieve_vs_copy_ratio", "disk_read_vs_raw_ratio", "disk_write_vs_raw_ratio",
                "lookup_us_per_chunk", "miss_overhead_ratio", "ttft_speedup_multi_round_qa");
        for (double[] run : runs) {
            for (int f = 0; f < fields.size(); f++) {
                series.add(fields.get(f), run[f]);
            }
            series.add("prefill_tokens_per_second", 25_000);
        }
        Map<String, Object> report = WorkloadBench.report(o, BenchSubject.assumed("synthetic", o.model(), 25_000), SMOLLM, series,
                Map.of(), pairs(1000));
        double[] medians = {1.2, 1.2, 1.2, 2.1, 1.02, 4.5};
        for (int f = 0; f < fields.size(); f++) {
            String k = fields.get(f);
            assertEquals(medians[f], report.get(k), k);
            assertEquals(List.of(runs[0][f], runs[1][f], runs[2][f]), report.get(k + "_runs"), k);
        }
        assertEquals(3, report.get("repeat"));
    }

    @Test
    void remoteRatiosAreNullWithTheirReasonWhenTheRedisToolsAreMissing() throws Exception {
        WorkloadBench.Options o = WorkloadBench.Options.parse(new String[] {"--dir", dir.toString(), "--quick"});
        RunSeries series = new RunSeries();
        series.add("retrieve_vs_copy_ratio", 1.0);
        Map<String, Object> ratios = new java.util.HashMap<>();
        ratios.put("remote_read_vs_redis_benchmark_ratio", null);
        ratios.put("remote_ratio_reason", "redis-benchmark is not on the PATH");
        Map<String, Object> report = WorkloadBench.report(o, BenchSubject.assumed("synthetic", o.model(), 25_000), SMOLLM, series,
                ratios, pairs(1000));
        for (String k : List.of("remote_read_vs_redis_benchmark_ratio", "remote_write_vs_redis_benchmark_ratio",
                "remote_retrieve_vs_redis_benchmark_ratio")) {
            assertTrue(report.containsKey(k), k);
            assertEquals(null, report.get(k), k);
        }
        assertEquals("redis-benchmark is not on the PATH", report.get("remote_ratio_reason"));
    }

    @Test
    void repeatMustBePositive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkloadBench.Options.parse(new String[] {"--dir", dir.toString(), "--repeat", "0"}));
        assertEquals("--repeat: 0 (expected: >= 1)", e.getMessage());
    }

    @Test
    void stringsWithQuotesBackslashesAndControlCharactersStayValidJson() {
        String json = BenchReport.json(Map.of("remote_ratio_reason", "failed: redis-cli said \"no\"\r\nat C:\\x\tand \u0001"));
        assertEquals("{\n  \"remote_ratio_reason\": \"failed: redis-cli said \\\"no\\\"\\r\\nat C:\\\\x\\tand \\u0001\"\n}\n", json);
    }

    @Test
    void theMissOverheadWeighsEightBlocksInTheOrderWithoutWithWithWithoutTwice() throws Exception {
        WorkloadBench.Options o = WorkloadBench.Options.parse(new String[] {"--dir", dir.toString()});
        List<Boolean> withCache = new java.util.ArrayList<>();
        WorkloadBench.Executor engine = (w, connector, progress) -> {
            withCache.add(connector != null);
            return connector != null ? result(w.name(), true, 1200) : result(w.name(), false, 900);
        };
        BenchReport.Pair first = new BenchReport.Pair(result("miss_only", true, 1000), result("miss_only", false, 1100));
        WorkloadBench.MissBlocks blocks = WorkloadBench.missOverhead(o, BenchSubject.assumed("synthetic", "smollm-135m", 1000), SMOLLM,
                List.of(Workloads.missOnly(5, 2, 64)), engine, new BenchProgress(new java.io.PrintStream(
                        java.io.OutputStream.nullOutputStream()), 4, 1), first);
        assertEquals(List.of(true, false, false, true, true, false), withCache,
                "after the run's pair (without, with): with, without, then without, with, with, without");
        assertEquals(8, WorkloadBench.MISS_BLOCKS);
        assertEquals((1.0 + 3 * 1.2) / (1.1 + 3 * 0.9), blocks.ratio(), 1e-12);
        assertEquals(List.of(1.0, 1.2, 1.2, 1.2), blocks.withCache(), "the blocks with a cache, in the order run");
        assertEquals(List.of(1.1, 0.9, 0.9, 0.9), blocks.withoutCache(), "the blocks without, in the order run");
        assertEquals(java.util.Map.of("with_cache_seconds", List.of(1.0, 1.2, 1.2, 1.2), "without_cache_seconds",
                List.of(1.1, 0.9, 0.9, 0.9)), blocks.toMap(), "the JSON's entry of the run");
    }
}
