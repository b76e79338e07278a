package org.lmcache4j.examples.jlama;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import one.profiler.AsyncProfiler;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;

/**
 * Where the demo's cached request spends its time: async-profiler (CPU, 1 ms) over five cached requests of the
 * demo's shape (a 4,096-token prefix from the cpu tier, a ~40-token question), after warm-up. Prints the share
 * of samples per kind of work and writes the collapsed stacks to {@code target/jlama-cached-request.collapsed}.
 * A measurement, not a check; run it with
 * {@code ./mvnw -B verify -pl examples-jlama -Dlmcache.excludedGroups= -Dgroups=profile -Dtest=CachedRequestProfile -DskipITs}.
 */
@Tag("profile")
class CachedRequestProfile {

    @Test
    void whereTheCachedRequestSpendsItsTime() throws IOException {
        JlamaShape shape = JlamaShape.QWEN_WIDE;
        LmCacheConfig config = LmCacheConfig.builder().modelId("profile").chunkTokens(256).noLocalDisk().build();
        Path out = Path.of("target", "jlama-cached-request.collapsed").toAbsolutePath();
        try (KvConnector cache = KvConnectors.open(config, SeededJlama.layout(shape));
             CachingLlamaModel model = SeededJlama.cached(shape, 1, cache)) {
            String prefix = Prompts.text(5, 4095);
            for (int i = 0; i < 3; i++) {
                Completion.greedy(model, Prompts.text(100 + i, 511), 2);
            }
            Completion.greedy(model, prefix + " a first question, which stores the prefix", 2);
            for (int i = 0; i < 3; i++) {
                Completion.greedy(model, prefix + " warm-up question " + i + ", about as long as the others", 2);
            }
            AsyncProfiler profiler = profiler();
            profiler.execute("start,event=cpu,interval=1ms");
            for (int i = 0; i < 5; i++) {
                Completion c = Completion.greedy(model, prefix + " profiled question " + i + ", about as long as the others", 2);
                System.out.printf(Locale.ROOT, "cached request %d: TTFT %.0f ms, %s%n", i, c.ttftNanos() / 1e6, c.prefill());
            }
            profiler.execute("stop,file=" + out + ",collapsed");
        }
        Map<String, Long> shares = shares(Files.readAllLines(out));
        long total = shares.values().stream().mapToLong(Long::longValue).sum();
        assertTrue(total > 0, "no samples in " + out);
        shares.forEach((kind, n) -> System.out.printf(Locale.ROOT, "%5.1f%%  %s%n", 100.0 * n / total, kind));
        System.out.println(total + " samples; stacks: " + out);
    }

    /** Samples per kind of work, by the innermost Jlama kernel on the stack (lmcache4j: any frame of ours on it). */
    private static Map<String, Long> shares(List<String> collapsed) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String kind : List.of("lmcache4j (describing Jlama's pages, retrieve, store)", "weight matmuls (F32 x BF16)",
                "attention scores (Q.K over the context)", "attention softmax", "attention weighted values (saxpy)", "other")) {
            m.put(kind, 0L);
        }
        for (String line : collapsed) {
            int space = line.lastIndexOf(' ');
            String stack = line.substring(0, space);
            long n = Long.parseLong(line.substring(space + 1));
            boolean ours = stack.contains("org/lmcache4j/storage") || stack.contains("org/lmcache4j/api")
                    || stack.contains("JlamaKv.");
            String kind = ours ? "lmcache4j (describing Jlama's pages, retrieve, store)" : jlamaKernel(stack.split(";"));
            m.merge(kind, n, Long::sum);
        }
        return m;
    }

    /** The kind of the innermost Jlama kernel on the stack (frames inlined into it, such as memory access, count as it). */
    private static String jlamaKernel(String[] frames) {
        for (int i = frames.length - 1; i >= 0; i--) {
            String f = frames[i];
            if (f.contains("GemmerF32BF16")) {
                return "weight matmuls (F32 x BF16)";
            }
            if (f.contains("GemmerF32")) {
                return "attention scores (Q.K over the context)";
            }
            if (f.contains("softMax")) {
                return "attention softmax";
            }
            if (f.contains("saxpy")) {
                return "attention weighted values (saxpy)";
            }
        }
        return "other";
    }

    private static AsyncProfiler profiler() throws IOException {
        String arch = System.getProperty("os.arch").contains("aarch64") ? "linux-arm64" : "linux-x64";
        Path lib = Files.createTempFile("libasyncProfiler", ".so");
        try (InputStream in = AsyncProfiler.class.getResourceAsStream("/" + arch + "/libasyncProfiler.so")) {
            Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
        }
        lib.toFile().deleteOnExit();
        return AsyncProfiler.getInstance(lib.toString());
    }
}
