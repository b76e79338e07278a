package org.lmcache4j.examples.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.lmcache4j.bench.workload.BenchReport;
import org.lmcache4j.bench.workload.BenchSubject;
import org.lmcache4j.bench.workload.Workload;
import org.lmcache4j.bench.workload.WorkloadBench;
import org.lmcache4j.examples.engine.LlamaEngine;
import org.lmcache4j.examples.model.ModelSize;
import org.lmcache4j.examples.model.ModelWeights;
import org.lmcache4j.examples.model.SeededWeights;

/**
 * {@code bin/lmcache bench}: LMCache-style workloads through the reference engine (default) or, with
 * {@code --connector-only}, through the connector alone with synthetic KV of a model shape. The report
 * says what ran: the reference engine's model shape and its measured prefill rate, or the synthetic
 * shape and its assumed rate. {@code --repeat N} runs everything N times: top-level figures are medians.
 *
 * <pre>
 * bin/lmcache bench [--quick] [--repeat N] [--json FILE] [--chart FILE.png] [--model-size smollm-135m] [--cache-dir DIR]
 * bin/lmcache bench --connector-only [--quick] [--repeat N] [--model llama-3.1-8b] [--prefill-tps N] [--json FILE] [--chart FILE.png]
 * </pre>
 */
public final class BenchCommand {

    private BenchCommand() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"); // the connector's info lines would break the bar
        }
        try {
            run(args);
        } catch (IllegalArgumentException e) {
            System.err.println("lmcache bench: " + e.getMessage());
            System.exit(2);
        }
    }

    static void run(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        boolean connectorOnly = rest.remove("--connector-only");
        if (rest.contains("-h") || rest.contains("--help")) {
            System.out.println("usage: bin/lmcache bench [--quick] [--repeat N] [--json FILE] [--chart FILE.png] [--model-size SIZE] "
                    + "[--cache-dir DIR]\n"
                    + "       bin/lmcache bench --connector-only [--quick] [--repeat N] [--model SHAPE] [--prefill-tps N] [--json FILE] "
                    + "[--chart FILE.png]");
            return;
        }
        if (connectorOnly) {
            WorkloadBench.main(rest.toArray(String[]::new));
            return;
        }
        String size = take(rest, "--model-size", "smollm-135m");
        Path cacheDir = Path.of(take(rest, "--cache-dir", "lmcache-cache"));
        for (String option : List.of("--model", "--prefill-tps")) {
            if (rest.contains(option)) {
                throw new IllegalArgumentException(option + ": applies to --connector-only (expected: --model-size SIZE; the reference "
                        + "engine runs that shape and measures its own prefill rate)");
            }
        }
        if (!rest.contains("--cpu-mib")) {
            rest.add("--cpu-mib"); // small enough that prefix repetition spills to the disk tier
            rest.add("64");
        }
        if (!rest.contains("--dir")) {
            rest.add("--dir");
            rest.add(cacheDir.resolve("bench").toString());
        }
        WorkloadBench.Options o = WorkloadBench.Options.parse(rest.toArray(String[]::new));
        ModelSize modelSize = ModelSize.of(size);
        System.err.println("bench: reference engine, " + modelSize + " shape (generating or loading its GGUF in " + cacheDir + ")");
        ModelWeights weights = SeededWeights.load(modelSize, cacheDir);
        List<Workload> workloads = EngineWorkloads.workloads(o.quick());
        int threads = Runtime.getRuntime().availableProcessors();
        int capacity = EngineWorkloads.capacityTokens(workloads);
        try (LlamaEngine engine = new LlamaEngine(weights, 2 * capacity, threads, 512)) {
            engine.preallocate(1, capacity); // attention's copies too are allocated once, before anything is timed
            Map<String, Object> report = WorkloadBench.run(o, subject(modelSize), engine.kvLayout(), workloads,
                    (w, cache, progress) -> EngineWorkloads.run(engine, w, cache, progress));
            System.out.print(BenchReport.json(report));
        }
    }

    /** What the reference engine bench runs: the engine with the model of {@code size}, its prefill rate measured. */
    static BenchSubject subject(ModelSize size) {
        return BenchSubject.measured("reference engine " + size, size.id());
    }

    private static String take(List<String> args, String option, String fallback) {
        int i = args.indexOf(option);
        if (i < 0) {
            return fallback;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException(option + ": missing value");
        }
        String v = args.get(i + 1);
        args.remove(i + 1);
        args.remove(i);
        return v;
    }
}
