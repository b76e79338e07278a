package org.lmcache4j.examples.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.lmcache4j.bench.workload.BenchReport;
import org.lmcache4j.bench.workload.Workload;
import org.lmcache4j.bench.workload.WorkloadBench;
import org.lmcache4j.examples.engine.LlamaEngine;
import org.lmcache4j.examples.model.ModelSize;
import org.lmcache4j.examples.model.ModelWeights;
import org.lmcache4j.examples.model.SeededWeights;

/**
 * {@code bin/lmcache bench}: LMCache-style workloads through the reference engine (default) or, with
 * {@code --connector-only}, through the connector alone with synthetic KV of a model shape.
 *
 * <pre>
 * bin/lmcache bench [--quick] [--json FILE] [--chart FILE.png] [--model-size smollm-135m] [--cache-dir DIR]
 * bin/lmcache bench --connector-only [--quick] [--model llama-3.1-8b] [--prefill-tps N] [--json FILE] [--chart FILE.png]
 * </pre>
 */
public final class BenchCommand {

    private BenchCommand() {
    }

    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        boolean connectorOnly = rest.remove("--connector-only");
        String size = take(rest, "--model-size", "smollm-135m");
        Path cacheDir = Path.of(take(rest, "--cache-dir", "lmcache-cache"));
        if (rest.contains("-h") || rest.contains("--help")) {
            System.out.println("usage: bin/lmcache bench [--quick] [--json FILE] [--chart FILE.png] [--model-size SIZE] [--cache-dir DIR]\n"
                    + "       bin/lmcache bench --connector-only [--quick] [--model SHAPE] [--prefill-tps N] [--json FILE] [--chart FILE.png]");
            return;
        }
        if (connectorOnly) {
            WorkloadBench.main(rest.toArray(String[]::new));
            return;
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
        try (LlamaEngine engine = new LlamaEngine(weights, 2 * EngineWorkloads.capacityTokens(workloads), threads, 512)) {
            Map<String, Object> report = WorkloadBench.run(o, engine.kvLayout(), workloads,
                    (w, cache, progress) -> EngineWorkloads.run(engine, w, cache, progress), "reference engine " + modelSize);
            System.out.print(BenchReport.json(report));
        }
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
