package org.lmcache4j.examples.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.lmcache4j.bench.CodecBench;
import org.lmcache4j.bench.WriteCostProbe;
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
 * bin/lmcache bench --codec-quality [--prompts 100] [--prompt-tokens 512] [--codecs raw,shuffle+zstd,int8,fp8-e4m3] [--json FILE]
 * bin/lmcache bench --codecs-only [--json FILE]
 * bin/lmcache bench --rag-blend [--prompts N] [--json FILE]
 * </pre>
 * {@code --codec-quality} compares the reference engine's next-token distribution with its prefix served
 * from a disk tier through each codec against no cache at all ({@link CodecQuality}).
 */
public final class BenchCommand {

    /** Chunks of the engine's KV the codec figures of {@code --quick} are measured on (256 tokens each). */
    private static final int CODEC_CHUNKS = 16;

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
        boolean codecQuality = rest.remove("--codec-quality");
        boolean codecsOnly = rest.remove("--codecs-only");
        boolean layerwise = rest.remove("--layerwise");
        boolean ragBlend = rest.remove("--rag-blend");
        boolean writeCost = rest.remove("--write-cost");
        if (rest.contains("-h") || rest.contains("--help")) {
            System.out.println("usage: bin/lmcache bench [--quick] [--repeat N] [--json FILE] [--chart FILE.png] [--model-size SIZE] "
                    + "[--cache-dir DIR]\n"
                    + "       bin/lmcache bench --connector-only [--quick] [--repeat N] [--model SHAPE] [--prefill-tps N] [--json FILE] "
                    + "[--chart FILE.png]\n"
                    + "       bin/lmcache bench --codec-quality [--prompts N] [--prompt-tokens N] [--codecs A,B,...] [--model-size SIZE] "
                    + "[--json FILE]\n"
                    + "       bin/lmcache bench --codecs-only [--model-size SIZE] [--json FILE]\n"
                    + "       bin/lmcache bench --layerwise [--prefix-tokens N] [--rounds N] [--model-size SIZE] [--json FILE]\n"
                    + "       bin/lmcache bench --rag-blend [--prompts N] [--model-size SIZE] [--json FILE]\n"
                    + "       bin/lmcache bench --write-cost [--mib-per-s N] [--rounds N] [--phase-seconds N] [--cache-dir DIR] [--json FILE]");
            return;
        }
        if (codecQuality) {
            codecQuality(rest);
            return;
        }
        if (codecsOnly) {
            codecsOnly(rest);
            return;
        }
        if (layerwise) {
            layerwise(rest);
            return;
        }
        if (ragBlend) {
            ragBlend(rest);
            return;
        }
        if (writeCost) {
            writeCost(rest);
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
                    (w, cache, progress) -> EngineWorkloads.run(engine, w, cache, progress), progress -> {
                        Map<String, Object> extras = new java.util.LinkedHashMap<>();
                        // the codecs on the engine's own KV (as bf16): 16 chunks of one prompt
                        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
                            int chunks = Math.max(1, Math.min(CODEC_CHUNKS, (2 * capacity - 16) / 256 - 1)); // what the engine's memory holds
                            progress.accept("codecs: prefilling " + chunks * 256 + " tokens for the engine's own KV");
                            extras.putAll(CodecBench.run(cacheDir.resolve("bench"), EngineKvChunks.bf16Layout(engine),
                                    EngineKvChunks.bf16(engine, chunks, 256, arena), progress));
                        }
                        try (LlamaEngine blending = RagBlend.engine(weights)) {
                            Map<String, Object> rag = new RagBlend(blending, weights.cacheModelId(modelSize.id()), 1).run(RAG_PROMPTS_QUICK, progress);
                            System.err.print(RagBlend.table(rag));
                            extras.putAll(rag);
                        }
                        return extras;
                    });
            System.out.print(BenchReport.json(report));
        }
    }

    /** Measured prompts of {@code rag_blend} in {@code --quick}: about 25 s each with smollm-135m on two cores. */
    private static final int RAG_PROMPTS_QUICK = 3;
    /** Measured prompts of {@code --rag-blend} by default. */
    private static final int RAG_PROMPTS = 5;

    /** The {@code rag_blend} workload alone ({@link RagBlend}): TTFT, KL and KV deviation per mode. */
    private static void ragBlend(List<String> rest) throws Exception {
        String size = take(rest, "--model-size", "smollm-135m");
        Path cacheDir = Path.of(take(rest, "--cache-dir", "lmcache-cache"));
        int prompts = positive("--prompts", take(rest, "--prompts", Integer.toString(RAG_PROMPTS)));
        String json = take(rest, "--json", null);
        if (!rest.isEmpty()) {
            throw new IllegalArgumentException("unknown options " + rest + " (expected: --prompts, --model-size, --cache-dir, --json)");
        }
        ModelSize modelSize = ModelSize.of(size);
        ModelWeights weights = SeededWeights.load(modelSize, cacheDir);
        try (LlamaEngine engine = RagBlend.engine(weights)) {
            Map<String, Object> report = new java.util.LinkedHashMap<>();
            report.put("model_shape", modelSize.id());
            report.putAll(new RagBlend(engine, weights.cacheModelId(modelSize.id()), 1).run(prompts,
                    line -> System.err.print("\rbench: " + line + "   ")));
            System.err.println();
            System.err.print(RagBlend.table(report));
            emit(report, json);
        }
    }

    /** The codec figures of {@code --quick} alone: ratio and speed on the engine's KV, the tiers' read gains. */
    private static void codecsOnly(List<String> rest) throws Exception {
        String size = take(rest, "--model-size", "smollm-135m");
        Path cacheDir = Path.of(take(rest, "--cache-dir", "lmcache-cache"));
        String json = take(rest, "--json", null);
        if (!rest.isEmpty()) {
            throw new IllegalArgumentException("unknown options " + rest + " (expected: --model-size, --cache-dir, --json)");
        }
        ModelSize modelSize = ModelSize.of(size);
        ModelWeights weights = SeededWeights.load(modelSize, cacheDir);
        int tokens = CODEC_CHUNKS * 256;
        try (LlamaEngine engine = new LlamaEngine(weights, 2 * tokens + 64, Runtime.getRuntime().availableProcessors(), 512);
                java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            engine.generate(new int[] {1, 2, 3}, 1).close(); // the JIT's first compiles, outside what the codecs are measured on
            Map<String, Object> report = new java.util.LinkedHashMap<>();
            report.put("model_shape", modelSize.id());
            report.putAll(CodecBench.run(cacheDir.resolve("bench"), EngineKvChunks.bf16Layout(engine),
                    EngineKvChunks.bf16(engine, CODEC_CHUNKS, 256, arena), line -> System.err.println("bench: " + line)));
            emit(report, json);
        }
    }

    /** TTFT of a cpu hit with a layerwise retrieve against a plain one ({@link LayerwiseTtft}). */
    private static void layerwise(List<String> rest) throws Exception {
        String size = take(rest, "--model-size", "smollm-135m");
        Path cacheDir = Path.of(take(rest, "--cache-dir", "lmcache-cache"));
        int prefixTokens = positive("--prefix-tokens", take(rest, "--prefix-tokens", "4096"));
        int rounds = positive("--rounds", take(rest, "--rounds", "9"));
        String json = take(rest, "--json", null);
        if (!rest.isEmpty()) {
            throw new IllegalArgumentException("unknown options " + rest + " (expected: --prefix-tokens, --rounds, --model-size,"
                    + " --cache-dir, --json)");
        }
        ModelSize modelSize = ModelSize.of(size);
        ModelWeights weights = SeededWeights.load(modelSize, cacheDir);
        int questionTokens = 64;
        try (LlamaEngine engine = new LlamaEngine(weights, 3 * (prefixTokens + questionTokens + 16),
                Runtime.getRuntime().availableProcessors(), 512)) {
            engine.preallocate(2, prefixTokens + questionTokens + 1);
            Map<String, Object> report = new java.util.LinkedHashMap<>();
            report.put("model_shape", modelSize.id());
            report.putAll(LayerwiseTtft.run(engine, weights.cacheModelId(modelSize.id()), prefixTokens, questionTokens, rounds,
                    line -> System.err.print("\rbench: " + line + "   ")));
            System.err.println();
            emit(report, json);
        }
    }

    private static void codecQuality(List<String> rest) throws Exception {
        String size = take(rest, "--model-size", "smollm-135m");
        Path cacheDir = Path.of(take(rest, "--cache-dir", "lmcache-cache"));
        int prompts = positive("--prompts", take(rest, "--prompts", "100"));
        int promptTokens = positive("--prompt-tokens", take(rest, "--prompt-tokens", "512"));
        List<String> codecs = List.of(take(rest, "--codecs", "raw,shuffle+zstd,int8,fp8-e4m3").split(","));
        String json = take(rest, "--json", null);
        if (!rest.isEmpty()) {
            throw new IllegalArgumentException("unknown options " + rest + " (expected: --prompts, --prompt-tokens, --codecs, --model-size,"
                    + " --cache-dir, --json)");
        }
        ModelSize modelSize = ModelSize.of(size);
        ModelWeights weights = SeededWeights.load(modelSize, cacheDir);
        try (LlamaEngine engine = new LlamaEngine(weights, 2 * (promptTokens + 16), Runtime.getRuntime().availableProcessors(), 512)) {
            List<CodecQuality.Result> results = CodecQuality.run(engine, weights.cacheModelId(modelSize.id()),
                    cacheDir.resolve("codec-quality"), codecs, prompts, promptTokens, 8, line -> System.err.print("\r" + line + "   "));
            System.err.println();
            Map<String, Object> report = new java.util.LinkedHashMap<>();
            report.put("model_shape", modelSize.id());
            report.put("weights", "seeded random (a mechanism check, not text quality)");
            report.put("prompt_tokens", promptTokens);
            report.put("new_tokens", 8);
            report.put("codecs", results.stream().map(CodecQuality.Result::json).toList());
            emit(report, json);
        }
    }

    /** What writing to the disk tier costs an engine computing on every core ({@link WriteCostProbe}). */
    private static void writeCost(List<String> rest) throws Exception {
        int mibPerSecond = positive("--mib-per-s", take(rest, "--mib-per-s", "20"));
        int rounds = positive("--rounds", take(rest, "--rounds", "5"));
        int phaseSeconds = positive("--phase-seconds", take(rest, "--phase-seconds", "4"));
        Path cacheDir = Path.of(take(rest, "--cache-dir", "lmcache-cache"));
        String json = take(rest, "--json", null);
        if (!rest.isEmpty()) {
            throw new IllegalArgumentException("unknown options " + rest + " (expected: --mib-per-s, --rounds, --phase-seconds, "
                    + "--cache-dir, --json)");
        }
        Map<String, Object> report = WriteCostProbe.run(cacheDir.resolve("write-cost"), mibPerSecond, rounds, phaseSeconds,
                line -> System.err.print("\rbench: write cost, " + line + "      "));
        System.err.println();
        emit(report, json);
    }

    /** Prints {@code report} as JSON and, when {@code json} names a file, writes it there too. */
    private static void emit(Map<String, Object> report, String json) throws java.io.IOException {
        String text = BenchReport.json(report);
        System.out.print(text);
        if (json != null) {
            java.nio.file.Files.writeString(Path.of(json), text);
        }
    }

    private static int positive(String option, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + ": '" + value + "' (expected: a whole number > 0)");
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
