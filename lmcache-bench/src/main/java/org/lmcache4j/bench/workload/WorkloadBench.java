package org.lmcache4j.bench.workload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.bench.BenchKv;
import org.lmcache4j.bench.QuickBench;

/**
 * LMCache-style workloads through the connector, each run with a fresh cache (cpu + disk) and without
 * one, reporting TTFT p50/p90/p99, requests/s, hit tokens per tier and bytes moved. The prefill is
 * pluggable: {@link SyntheticPrefill} (the connector alone, with a model's KV shape and an assumed
 * prefill rate) or a real engine's. {@code --quick} adds the ratio measurements of {@link QuickBench}.
 * {@code --repeat N} runs everything N times after one warm-up: the top-level figures are then the
 * medians, and {@code <field>_runs} lists each run's value ({@link RunSeries}).
 *
 * <pre>
 * WorkloadBench [--quick] [--repeat N] [--model qwen2.5-1.5b|llama-3.1-8b|...] [--prefill-tps N] [--cpu-mib N]
 *               [--dir DIR] [--json FILE] [--chart FILE.png]
 * </pre>
 */
public final class WorkloadBench {

    /** The top-level figures of a run, in report order: medians over the runs, each with its {@code _runs} list. */
    static final List<String> QUICK_FIELDS = List.of("retrieve_vs_copy_ratio", "shared_pool_vs_cpu_ratio", "disk_read_vs_raw_ratio", "disk_write_vs_raw_ratio",
            "lookup_us_per_chunk", "remote_read_vs_redis_benchmark_ratio", "remote_write_vs_redis_benchmark_ratio",
            "remote_retrieve_vs_redis_benchmark_ratio");
    /** Why the remote ratios are null, when they are (redis-server or redis-benchmark missing). */
    static final String REMOTE_REASON = "remote_ratio_reason";
    static final String MISS_OVERHEAD = "miss_overhead_ratio";
    private static final String MISS_ONLY = "miss_only";
    /**
     * How long a timed block waits for its new connector's open-time preparation ({@link KvConnector#awaitReady}):
     * the cpu tier's first pages, faulted in on a background thread at normal priority. Without the wait that
     * work (a core for ~0.1-0.3 s for the reference bench's 64 MiB) fell into the first requests of every
     * block with a cache, a startup cost a server pays once, charged here to each block.
     */
    private static final java.time.Duration READY_TIMEOUT = java.time.Duration.ofSeconds(30);
    static final String QA_SPEEDUP = "ttft_speedup_multi_round_qa";
    private static final String PREFILL_RATE = "prefill_tokens_per_second";

    /** Options of a run. */
    public record Options(boolean quick, String model, double prefillTokensPerSecond, long cpuMiB, Path dir,
                          Path json, Path chart, int repeat) {

        public static Options parse(String[] args) throws IOException {
            boolean quick = false;
            String model = "qwen2.5-1.5b";
            double tps = -1;
            long cpuMiB = 256;
            Path dir = null;
            Path json = null;
            Path chart = null;
            int repeat = 1;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--quick" -> quick = true;
                    case "--model" -> model = value(args, ++i, a);
                    case "--prefill-tps" -> tps = Double.parseDouble(value(args, ++i, a));
                    case "--cpu-mib" -> cpuMiB = Long.parseLong(value(args, ++i, a));
                    case "--dir" -> dir = Path.of(value(args, ++i, a));
                    case "--json" -> json = Path.of(value(args, ++i, a));
                    case "--chart" -> chart = Path.of(value(args, ++i, a));
                    case "--repeat" -> repeat = Integer.parseInt(value(args, ++i, a));
                    default -> throw new IllegalArgumentException("option: '" + a + "' (expected: --quick, --repeat, --model, "
                            + "--prefill-tps, --cpu-mib, --dir, --json, --chart)");
                }
            }
            if (repeat < 1) {
                throw new IllegalArgumentException("--repeat: " + repeat + " (expected: >= 1)");
            }
            BenchKv.layout(model); // validates the name
            return new Options(quick, model, tps > 0 ? tps : defaultPrefillRate(model), cpuMiB,
                    dir != null ? dir : Files.createTempDirectory("lmcache-bench"), json, chart, repeat);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + ": missing value");
            }
            return args[i];
        }
    }

    /** Runs one workload through an engine, with {@code connector} or (null) without a cache. */
    @FunctionalInterface
    public interface Executor {
        WorkloadRunner.Result run(Workload workload, KvConnector connector, java.util.function.IntConsumer progress);
    }

    private WorkloadBench() {
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        KvLayout layout = BenchKv.layout(o.model());
        System.err.printf(Locale.ROOT, "connector-only benchmark: %s KV shape (%d bytes/token), synthetic prefill at %.0f tokens/s%n",
                o.model(), layout.bytesPerToken(), o.prefillTokensPerSecond());
        List<Workload> workloads = workloads(o.quick());
        int slots = Math.max(WorkloadRunner.poolSlots(warmUpWorkload()),
                workloads.stream().mapToInt(WorkloadRunner::poolSlots).max().orElse(1));
        SyntheticPrefill prefill = new SyntheticPrefill(o.prefillTokensPerSecond());
        boolean ownDir = !java.util.Arrays.asList(args).contains("--dir");
        try (EngineKvPool pool = new EngineKvPool(layout, slots)) { // touched once, before anything is timed
            Map<String, Object> report = run(o, BenchSubject.assumed("synthetic", o.model(), o.prefillTokensPerSecond()), layout,
                    workloads, (w, c, p) -> WorkloadRunner.run(w, c, prefill, pool, p));
            System.out.println(BenchReport.json(report));
        } finally {
            if (ownDir) {
                deleteTree(o.dir()); // the temporary directory holds GiBs of chunk files: leave nothing behind
            }
        }
    }

    /** Deletes {@code dir} and everything under it; missing is fine. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * Warms up, runs every workload with and without a cache (and, when quick, the ratio measurements)
     * {@code o.repeat()} times, and writes the JSON and chart asked for. The report's labels come from
     * {@code subject}: the model shape that ran, and its prefill rate (measured for a real engine).
     */
    public static Map<String, Object> run(Options o, BenchSubject subject, KvLayout layout, List<Workload> workloads,
                                          Executor engine) throws IOException {
        return run(o, subject, layout, workloads, engine, null);
    }

    /**
     * As {@link #run(Options, BenchSubject, KvLayout, List, Executor)}; with {@code --quick}, {@code quickExtras}
     * (when not null) runs once after the runs, told progress notes, and its fields join the report's top level.
     */
    public static Map<String, Object> run(Options o, BenchSubject subject, KvLayout layout, List<Workload> workloads,
                                          Executor engine, java.util.function.Function<java.util.function.Consumer<String>,
                                          Map<String, Object>> quickExtras) throws IOException {
        int perRun = workloads.stream().mapToInt(w -> (w.name().equals(MISS_ONLY) ? MISS_BLOCKS : 2) * w.requests().size()).sum();
        BenchProgress progress = new BenchProgress(System.err, o.repeat() * perRun, o.repeat());
        progress.note("warm-up (not measured)");
        warmUp(o, subject, layout, engine);
        RunSeries series = new RunSeries();
        List<BenchReport.Pair> pairs = List.of();
        List<Map<String, Object>> missBlocks = new ArrayList<>();
        Map<String, Object> ratios = null;
        for (int run = 1; run <= o.repeat(); run++) {
            progress.startRun(run);
            pairs = runWorkloads(o, subject, layout, workloads, engine, progress);
            MissBlocks blocks = missOverhead(o, subject, layout, workloads, engine, progress, pair(pairs, MISS_ONLY));
            missBlocks.add(blocks.toMap());
            double missOverhead = blocks.ratio();
            if (o.quick()) {
                ratios = QuickBench.run(o.dir().resolve("quickbench"), "qwen2.5-0.5b", 4096, 16, progress::note);
                for (String k : QUICK_FIELDS) {
                    if (ratios.get(k) instanceof Number n) { // the remote ratios are null without Redis tools
                        series.add(k, n.doubleValue());
                    }
                }
            }
            series.add(MISS_OVERHEAD, missOverhead);
            series.add(QA_SPEEDUP, pair(pairs, "multi_round_qa").ttftSpeedup());
            series.add(PREFILL_RATE, subject.measuresPrefill() ? measuredPrefillRate(pairs) : subject.assumedPrefillTokensPerSecond());
            if (o.repeat() > 1) {
                progress.endRun(runSummary(run, o.repeat(), series));
            } else {
                progress.done();
            }
        }
        System.err.print(BenchReport.table(pairs));
        Map<String, Object> report = report(o, subject, layout, series, ratios, pairs);
        report.put(MISS_OVERHEAD + "_blocks_runs", missBlocks);
        if (o.quick() && quickExtras != null) {
            report.putAll(quickExtras.apply(line -> System.err.println("bench: " + line)));
        }
        if (o.json() != null) {
            Files.writeString(o.json(), BenchReport.json(report));
            System.err.println("wrote " + o.json());
        }
        if (o.chart() != null) {
            BenchReport.chart(pairs, "lmcache4j workloads: p50 TTFT (" + subject.engine() + ", " + subject.modelShape() + " KV shape)",
                    o.chart());
            System.err.println("wrote " + o.chart());
        }
        return report;
    }

    /**
     * Blocks of the miss-only workload in one run's {@code miss_overhead_ratio}, half without and half with a
     * cache. With four, the ratio's standard deviation from run to run was 0.043 here (15 runs in three batches
     * at acbfca0-de3c9d5, mean 1.011), more than the 0.03 it is held to; eight halve its variance as far as the
     * blocks' noise is independent. A multiple of four: the order is without, with, with, without, repeated.
     */
    static final int MISS_BLOCKS = 8;

    /**
     * The miss-only workload's wall time with a cache over its time without, from {@value #MISS_BLOCKS} blocks
     * in the order without, with (the run's pair, {@code first}), with, without, and again without, with, with,
     * without: a drift of the machine's speed during the run (other work, memory state, clocks) then weighs on
     * both sides alike. One pair of blocks of a few seconds moved the ratio from 0.91 to 1.08 between runs of one
     * process here, more than the 3% it measures. Each block with a cache has a fresh connector, closed (its
     * write-behind drained) before the next block starts.
     */
    static MissBlocks missOverhead(Options o, BenchSubject subject, KvLayout layout, List<Workload> workloads,
                                   Executor engine, BenchProgress progress, BenchReport.Pair first) {
        Workload w = workloads.stream().filter(x -> x.name().equals(MISS_ONLY)).findFirst().orElseThrow();
        List<Double> on = new ArrayList<>(List.of(first.cache().wallSeconds()));
        List<Double> off = new ArrayList<>(List.of(first.noCache().wallSeconds()));
        for (int block = 3; block <= MISS_BLOCKS; block++) {
            boolean withCache = block % 4 == 2 || block % 4 == 3; // blocks 1-4: without, with, with, without; then again
            String stage = w.name() + (withCache ? " (cache, " : " (no cache, ") + "block " + block + " of " + MISS_BLOCKS + ")";
            if (withCache) {
                try (KvConnector c = KvConnectors.open(config(o, subject, o.dir().resolve(w.name() + "-2")), layout)) {
                    c.clear();
                    c.awaitReady(READY_TIMEOUT);
                    on.add(engine.run(w, c, progress.stage(stage)).wallSeconds());
                }
            } else {
                off.add(engine.run(w, null, progress.stage(stage)).wallSeconds());
            }
        }
        return new MissBlocks(on, off);
    }

    /**
     * The wall seconds of one run's miss-only blocks, each list in the order run: the JSON's
     * {@code miss_overhead_ratio_blocks_runs} shows whether a run's ratio came from one slow block or from all.
     */
    record MissBlocks(List<Double> withCache, List<Double> withoutCache) {

        /** The miss overhead: the time with a cache over the time without. */
        double ratio() {
            return sum(withCache) / sum(withoutCache);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("with_cache_seconds", withCache.stream().map(WorkloadRunner::round).toList());
            m.put("without_cache_seconds", withoutCache.stream().map(WorkloadRunner::round).toList());
            return m;
        }

        private static double sum(List<Double> seconds) {
            return seconds.stream().mapToDouble(Double::doubleValue).sum();
        }
    }

    /** One run of every workload, without then with a fresh cache. */
    private static List<BenchReport.Pair> runWorkloads(Options o, BenchSubject subject, KvLayout layout, List<Workload> workloads,
                                                       Executor engine, BenchProgress progress) {
        List<BenchReport.Pair> pairs = new ArrayList<>();
        for (Workload w : workloads) {
            WorkloadRunner.Result off = engine.run(w, null, progress.stage(w.name() + " (no cache)"));
            Path dir = o.dir().resolve(w.name());
            WorkloadRunner.Result on;
            try (KvConnector c = KvConnectors.open(config(o, subject, dir), layout)) {
                c.clear(); // a cold cache: nothing left on disk from an earlier run
                c.awaitReady(READY_TIMEOUT); // as a server does before traffic: open-time work is not a request's
                on = engine.run(w, c, progress.stage(w.name() + " (cache)"));
            }
            pairs.add(new BenchReport.Pair(on, off));
        }
        return pairs;
    }

    /**
     * The report: labels from {@code subject}; the top-level figures as medians over the runs with their
     * {@code _runs} lists; {@code ratio_details} and {@code workloads} of the last run.
     */
    static Map<String, Object> report(Options o, BenchSubject subject, KvLayout layout, RunSeries series,
                                      Map<String, Object> lastRatios, List<BenchReport.Pair> lastPairs) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("mode", o.quick() ? "quick" : "full");
        report.put("repeat", o.repeat());
        report.put("engine", subject.engine());
        report.put("model_shape", subject.modelShape());
        report.put("bytes_per_token", layout.bytesPerToken());
        report.put(PREFILL_RATE, series.median(PREFILL_RATE));
        report.put("prefill_rate", subject.measuresPrefill()
                ? "measured: prompt tokens over TTFT summed over the no-cache runs (median over runs)"
                : "assumed: the synthetic prefill's rate (--prefill-tps, by default a typical vLLM GPU rate for the shape)");
        if (o.quick()) {
            for (String k : QUICK_FIELDS) {
                series.putInto(report, k);
                if (!report.containsKey(k)) {
                    report.put(k, null);
                }
            }
            if (lastRatios != null && lastRatios.get(REMOTE_REASON) != null) {
                report.put(REMOTE_REASON, lastRatios.get(REMOTE_REASON));
            }
            report.put("ratio_details", lastRatios);
        }
        series.putInto(report, MISS_OVERHEAD);
        series.putInto(report, QA_SPEEDUP);
        List<Object> results = new ArrayList<>();
        for (BenchReport.Pair p : lastPairs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", p.cache().name());
            m.put("cache", p.cache().toMap());
            m.put("no_cache", p.noCache().toMap());
            m.put("ttft_speedup", WorkloadRunner.round(p.ttftSpeedup()));
            results.add(m);
        }
        if (o.repeat() > 1) {
            report.put("workloads_of_run", o.repeat());
        }
        report.put("workloads", results);
        return report;
    }

    /** Prompt tokens per second of the no-cache runs: every prompt token over the summed TTFT. */
    static double measuredPrefillRate(List<BenchReport.Pair> pairs) {
        long tokens = 0;
        double ms = 0;
        for (BenchReport.Pair p : pairs) {
            tokens += p.noCache().promptTokens();
            ms += java.util.Arrays.stream(p.noCache().ttftMs()).sum();
        }
        return ms > 0 ? tokens / (ms / 1000) : Double.NaN;
    }

    private static BenchReport.Pair pair(List<BenchReport.Pair> pairs, String name) {
        return pairs.stream().filter(p -> p.cache().name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("workload " + name + ": missing (expected: among the workloads run)"));
    }

    private static String runSummary(int run, int runs, RunSeries series) {
        StringBuilder b = new StringBuilder("run " + run + "/" + runs + ":");
        for (String k : List.of(QUICK_FIELDS.get(0), QUICK_FIELDS.get(1), QUICK_FIELDS.get(2), QUICK_FIELDS.get(3), MISS_OVERHEAD,
                QA_SPEEDUP)) {
            List<Double> v = series.runs(k);
            if (!v.isEmpty()) {
                b.append(' ').append(k).append('=').append(v.getLast());
            }
        }
        return b.toString();
    }

    /** Runs a small workload with and without the cache first, so the JIT and the page cache are warm. */
    private static void warmUp(Options o, BenchSubject subject, KvLayout layout, Executor engine) {
        Workload w = warmUpWorkload();
        try (KvConnector c = KvConnectors.open(config(o, subject, o.dir().resolve("warmup")), layout)) {
            c.clear();
            for (int i = 0; i < 2; i++) {
                engine.run(w, c, done -> { });
                engine.run(w, null, done -> { });
            }
        }
    }

    /** The workload of the warm-up, run before anything is measured. */
    public static Workload warmUpWorkload() {
        return Workloads.documentQa(99, 2, 512, 3, 32);
    }

    /** The five workloads; quick sizes finish in about a minute here, full ones are 3x larger. */
    public static List<Workload> workloads(boolean quick) {
        int s = quick ? 1 : 3;
        return List.of(
                Workloads.multiRoundQa(1, 4 * s, 4, 1024, 64, 128),
                Workloads.documentQa(2, 3, 4096, 5 * s, 64),
                Workloads.prefixRepetition(3, 12, 2048, 30 * s, 64),
                Workloads.ragChunks(4, 40, 512, 4, 20 * s, 512, 64),
                Workloads.missOnly(5, 10 * s, 2048));
    }

    /** The cache of one workload run: a small cpu tier (so prefix repetition spills to disk) over a disk tier. */
    static LmCacheConfig config(Options o, BenchSubject subject, Path dir) {
        return LmCacheConfig.builder().modelId("bench-" + subject.modelShape()).maxLocalCpuBytes(o.cpuMiB() << 20)
                .localDisk(dir).maxLocalDiskBytes(8L << 30).build();
    }

    /** Typical GPU prefill rates of vLLM for these shapes (tokens/s): what a cache hit must beat. */
    static double defaultPrefillRate(String model) {
        return switch (model.toLowerCase(Locale.ROOT)) {
            case "qwen2.5-0.5b" -> 40_000;
            case "qwen2.5-1.5b" -> 25_000;
            case "llama-3.1-8b" -> 8_000;
            default -> 20_000;
        };
    }
}
