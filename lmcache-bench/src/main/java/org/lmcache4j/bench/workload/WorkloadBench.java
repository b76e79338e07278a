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
import org.lmcache4j.storage.QuickBench;

/**
 * LMCache-style workloads through the connector, each run with a fresh cache (cpu + disk) and without
 * one, reporting TTFT p50/p90/p99, requests/s, hit tokens per tier and bytes moved. The prefill is
 * pluggable: {@link SyntheticPrefill} (the connector alone, with a model's KV shape and an assumed
 * prefill rate) or a real engine's. {@code --quick} adds the ratio measurements of {@link QuickBench}.
 *
 * <pre>
 * WorkloadBench [--quick] [--model qwen2.5-1.5b|llama-3.1-8b|...] [--prefill-tps N] [--cpu-mib N]
 *               [--dir DIR] [--json FILE] [--chart FILE.png]
 * </pre>
 */
public final class WorkloadBench {

    /** Options of a run. */
    public record Options(boolean quick, String model, double prefillTokensPerSecond, long cpuMiB, Path dir,
                          Path json, Path chart) {

        public static Options parse(String[] args) throws IOException {
            boolean quick = false;
            String model = "qwen2.5-1.5b";
            double tps = -1;
            long cpuMiB = 256;
            Path dir = null;
            Path json = null;
            Path chart = null;
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
                    default -> throw new IllegalArgumentException("option: '" + a + "' (expected: --quick, --model, "
                            + "--prefill-tps, --cpu-mib, --dir, --json, --chart)");
                }
            }
            BenchKv.layout(model); // validates the name
            return new Options(quick, model, tps > 0 ? tps : defaultPrefillRate(model), cpuMiB,
                    dir != null ? dir : Files.createTempDirectory("lmcache-bench"), json, chart);
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
        Map<String, Object> report = run(o, layout, workloads(o.quick()),
                (w, c, p) -> WorkloadRunner.run(w, c, new SyntheticPrefill(o.prefillTokensPerSecond()), layout, p), "synthetic");
        System.out.println(BenchReport.json(report));
    }

    /**
     * Runs every workload with and without a cache (and, when quick, the ratio measurements) and writes
     * the JSON and chart asked for.
     */
    public static Map<String, Object> run(Options o, KvLayout layout, List<Workload> workloads, Executor engine,
                                          String engineName) throws IOException {
        warmUp(o, layout, engine);
        List<BenchReport.Pair> pairs = new ArrayList<>();
        int total = workloads.stream().mapToInt(w -> 2 * w.requests().size()).sum();
        Progress progress = new Progress(total);
        for (Workload w : workloads) {
            WorkloadRunner.Result off = engine.run(w, null, progress.stage(w.name() + " (no cache)"));
            Path dir = o.dir().resolve(w.name());
            WorkloadRunner.Result on;
            try (KvConnector c = KvConnectors.open(config(o, dir), layout)) {
                c.clear(); // a cold cache: nothing left on disk from an earlier run
                on = engine.run(w, c, progress.stage(w.name() + " (cache)"));
            }
            pairs.add(new BenchReport.Pair(on, off));
        }
        progress.done();
        System.err.print(BenchReport.table(pairs));

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("mode", o.quick() ? "quick" : "full");
        report.put("engine", engineName);
        report.put("model_shape", o.model());
        report.put("bytes_per_token", layout.bytesPerToken());
        report.put("prefill_tokens_per_second", o.prefillTokensPerSecond());
        if (o.quick()) {
            Map<String, Object> ratios = QuickBench.run(o.dir().resolve("quickbench"), "qwen2.5-0.5b", 4096, 16);
            for (String k : List.of("retrieve_vs_copy_ratio", "disk_read_vs_raw_ratio", "disk_write_vs_raw_ratio",
                    "lookup_us_per_chunk")) {
                report.put(k, ratios.get(k));
            }
            report.put("ratio_details", ratios);
        }
        BenchReport.Pair miss = pairs.stream().filter(p -> p.cache().name().equals("miss_only")).findFirst().orElseThrow();
        report.put("miss_overhead_ratio", WorkloadRunner.round(miss.cache().wallSeconds() / miss.noCache().wallSeconds()));
        BenchReport.Pair qa = pairs.stream().filter(p -> p.cache().name().equals("multi_round_qa")).findFirst().orElseThrow();
        report.put("ttft_speedup_multi_round_qa", WorkloadRunner.round(qa.ttftSpeedup()));
        List<Object> results = new ArrayList<>();
        for (BenchReport.Pair p : pairs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", p.cache().name());
            m.put("cache", p.cache().toMap());
            m.put("no_cache", p.noCache().toMap());
            m.put("ttft_speedup", WorkloadRunner.round(p.ttftSpeedup()));
            results.add(m);
        }
        report.put("workloads", results);
        if (o.json() != null) {
            Files.writeString(o.json(), BenchReport.json(report));
            System.err.println("wrote " + o.json());
        }
        if (o.chart() != null) {
            BenchReport.chart(pairs, "lmcache4j workloads: p50 TTFT (" + engineName + ", " + o.model() + " KV shape)", o.chart());
            System.err.println("wrote " + o.chart());
        }
        return report;
    }

    /** Runs a small workload with and without the cache first, so the JIT and the page cache are warm. */
    private static void warmUp(Options o, KvLayout layout, Executor engine) {
        Workload w = Workloads.documentQa(99, 2, 512, 3, 32);
        try (KvConnector c = KvConnectors.open(config(o, o.dir().resolve("warmup")), layout)) {
            c.clear();
            for (int i = 0; i < 2; i++) {
                engine.run(w, c, done -> { });
                engine.run(w, null, done -> { });
            }
        }
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
    static LmCacheConfig config(Options o, Path dir) {
        return LmCacheConfig.builder().modelId("bench-" + o.model()).maxLocalCpuBytes(o.cpuMiB() << 20)
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

    /** A one-line progress bar on stderr. */
    static final class Progress {
        private final int total;
        private int base;
        private int last = -1;

        Progress(int total) {
            this.total = total;
        }

        java.util.function.IntConsumer stage(String name) {
            int start = base;
            return done -> {
                int now = start + done;
                base = Math.max(base, now);
                int pct = (int) (100L * now / Math.max(1, total));
                if (pct != last) {
                    last = pct;
                    int bars = pct / 4;
                    System.err.printf(Locale.ROOT, "\r[%-25s] %3d%% %-40s", "#".repeat(bars), pct, name);
                }
            };
        }

        void done() {
            System.err.println();
        }
    }
}
