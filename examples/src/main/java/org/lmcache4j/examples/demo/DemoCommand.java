package org.lmcache4j.examples.demo;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.lmcache4j.examples.gguf.GgmlType;
import org.lmcache4j.examples.model.ModelSize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/lmcache demo}: the reference engine with and without lmcache4j, on a model of a named size
 * with seeded random weights (or a GGUF file), printing TTFT per scenario and checking that the cache
 * changes nothing in the KV, the logits and the generated tokens. Exit code 0 when every check passed,
 * 1 when one did not, 2 for bad options.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs a Llama-architecture engine in pure Java with and without lmcache4j and compares TTFT and outputs.",
                "Scenarios: cold, warm (cpu hit), restart (disk hit in a new JVM), multi-round chat, long-document QA."})
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--model-size", defaultValue = "smollm-135m", paramLabel = "SIZE",
            description = "Shape of the generated model: tiny, stories15m, smollm-135m, qwen2.5-0.5b (default: ${DEFAULT-VALUE}).")
    String modelSize;

    @Option(names = "--model", paramLabel = "FILE.gguf",
            description = "A GGUF Llama/Qwen2 model (F32, F16, BF16 or Q8_0) instead of a generated one.")
    Path modelFile;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the generated weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--weights", defaultValue = "f16", paramLabel = "TYPE",
            description = "Tensor type of the generated model's matrices: f32, f16, bf16, q8_0 (default: ${DEFAULT-VALUE}).")
    String weights;

    @Option(names = "--prefix-tokens", defaultValue = "4096",
            description = "Shared document of the cold/warm/restart scenarios (default: ${DEFAULT-VALUE}).")
    int prefixTokens;

    @Option(names = "--question-tokens", defaultValue = "64",
            description = "Each question and chat user turn (default: ${DEFAULT-VALUE}).")
    int questionTokens;

    @Option(names = "--new-tokens", defaultValue = "8", description = "Tokens generated per request (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--chat-rounds", defaultValue = "4",
            description = "Rounds of the chat scenario; 0 skips it (default: ${DEFAULT-VALUE}).")
    int chatRounds;

    @Option(names = "--chat-turn-tokens", defaultValue = "512",
            description = "Tokens each chat round adds to the history (default: ${DEFAULT-VALUE}).")
    int chatTurnTokens;

    @Option(names = "--doc-tokens", defaultValue = "2048",
            description = "Document of the QA scenario (default: ${DEFAULT-VALUE}).")
    int docTokens;

    @Option(names = "--questions", defaultValue = "3",
            description = "Questions about that document; 0 skips it (default: ${DEFAULT-VALUE}).")
    int questions;

    @Option(names = "--cache-dir", defaultValue = "lmcache-cache", paramLabel = "DIR",
            description = "Generated models (DIR/models) and the disk tier (DIR/kv) (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    @Option(names = "--cpu-cache-gib", defaultValue = "0",
            description = "CPU tier budget in GiB; 0 = the connector's default (LMCACHE_MAX_LOCAL_CPU_SIZE or 5).")
    double cpuGib;

    @Option(names = "--disk-cache-gib", defaultValue = "10", description = "Disk tier budget in GiB (default: ${DEFAULT-VALUE}).")
    double diskGib;

    @Option(names = "--threads", description = "Compute threads (default: the available processors).")
    Integer threads;

    @Option(names = "--prefill-chunk", defaultValue = "512",
            description = "Positions per forward pass during prefill (default: ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--warmup-tokens", defaultValue = "1024",
            description = "Prompt of the unmeasured JIT warm-up run (default: ${DEFAULT-VALUE}).")
    int warmupTokens;

    @Option(names = "--no-restart", description = "Skip the restart scenario (the child JVM).")
    boolean noRestart;

    @Option(names = "--disk-cache-state", defaultValue = "cold", paramLabel = "STATE",
            description = {"Page cache of the restart scenario's chunk files before its retrieve and its raw baseline reads: "
                    + "cold (evicted: reads from the device, as after a restart once the kernel reclaimed them) or warm "
                    + "(read once first) (default: ${DEFAULT-VALUE})."})
    String diskCacheState;

    @Option(names = "--no-pool", description = "Skip the shared-pool scenario (a second engine JVM on the node-shared pool).")
    boolean noPool;

    @Option(names = "--rag-documents", defaultValue = "4",
            description = "Documents of the RAG scenario (CacheBlend: reused in another order); 0 skips it (default: ${DEFAULT-VALUE}).")
    int ragDocuments;

    @Option(names = "--rag-document-tokens", defaultValue = "512",
            description = "Tokens of each RAG document (default: ${DEFAULT-VALUE}).")
    int ragDocumentTokens;

    @Option(names = "--keep-cache", description = "Keep the disk tier's chunks from earlier runs instead of clearing it first.")
    boolean keepCache;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "Also draw TTFT against prompt length as a PNG.")
    Path chart;

    public static void main(String[] args) {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"); // the connector's info lines would break the bar
        }
        System.exit(new CommandLine(new DemoCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        DemoOptions options;
        try {
            if (modelFile != null && !Files.isRegularFile(modelFile)) {
                throw new IllegalArgumentException("--model: " + modelFile + " (expected: a GGUF file)");
            }
            options = new DemoOptions(cacheDir, Optional.ofNullable(modelFile), ModelSize.of(modelSize), seed,
                    weightType(weights), prefixTokens, questionTokens, newTokens, chatRounds,
                    chatTurnTokens, docTokens, questions, threads == null ? Runtime.getRuntime().availableProcessors() : threads,
                    prefillChunk, (long) (cpuGib * (1L << 30)), (long) (diskGib * (1L << 30)), !noRestart, keepCache,
                    !noProgress, warmupTokens, diskCacheState, !noPool, ragDocuments, ragDocumentTokens);
        } catch (IllegalArgumentException e) {
            System.err.println("lmcache demo: " + e.getMessage());
            return 2;
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        DemoSummary summary = new Demo(options, out).run();
        out.println();
        out.print(ResultTable.render(summary));
        out.print(headline(summary));
        if (summary.rag() != null) {
            out.print(ResultTable.rag(summary.rag()));
        }
        if (json != null) {
            Files.writeString(json, JsonReport.render(summary));
            out.println("results: " + json);
        }
        if (chart != null) {
            TtftChart.write(summary, chart);
            out.println("chart:   " + chart);
        }
        return summary.kvIdentical() && summary.tokensIdentical() && (summary.rag() == null || summary.rag().exactIdentical()) ? 0 : 1;
    }

    private static GgmlType weightType(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "bf16" -> GgmlType.BF16;
            case "q8_0" -> GgmlType.Q8_0;
            default -> throw new IllegalArgumentException("--weights: " + name + " (expected: f32, f16, bf16 or q8_0)");
        };
    }

    /**
     * The headline, one line: the shared prefix's TTFT without and with the cache from each tier it was
     * served from (the warm row and the restart row), and each retrieve against its plain baseline.
     */
    static String headline(DemoSummary s) {
        List<String> parts = new ArrayList<>();
        List<String> ratios = new ArrayList<>();
        int tokens = 0;
        for (ScenarioResult r : s.scenarios()) {
            if ((r.name().startsWith("warm") || r.name().startsWith("restart")) && r.cachedTokens() > 0) {
                tokens = Math.max(tokens, r.cachedTokens());
                String from = !r.name().startsWith("restart") ? "from the " + r.hitTier() + " tier"
                        : "from disk in a new process" + (r.raw().fromFiles() ? ", page cache " + r.raw().cacheState() : "");
                parts.add(String.format(Locale.ROOT, "%,.0f ms -> %,.0f ms %s (%.1fx)", r.ttftMsNoCache(), r.ttftMsCache(), from,
                        r.speedup()));
                if (Double.isFinite(r.retrieveVsRaw())) {
                    ratios.add(String.format(Locale.ROOT, "%.2fx a plain %s", r.retrieveVsRaw(), r.raw().fromFiles() ? "read" : "copy"));
                }
            }
        }
        if (parts.isEmpty()) {
            return "";
        }
        return String.format(Locale.ROOT, "shared %,d-token prefix, TTFT: %s%s%n", tokens, String.join("; ", parts),
                ratios.isEmpty() ? "" : "; retrieve " + String.join(", ", ratios));
    }
}
