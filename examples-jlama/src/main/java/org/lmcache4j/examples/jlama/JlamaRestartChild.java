package org.lmcache4j.examples.jlama;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;

/**
 * The demo's restarted engine: a new JVM that loads the same model, opens a connector on the same disk tier,
 * warms its JIT up (two prompts of its own, computed, and one the first JVM stored, a hit from disk) and then
 * asks the measured prompt. It writes what it saw to a properties file for the parent.
 */
public final class JlamaRestartChild {

    private static final long TIMEOUT_SECONDS = 900;

    /** What the fresh JVM saw: its completion, the tier its hit came from, and its connector's stats. */
    record Report(Completion completion, String hitTier, String stats) {
    }

    private JlamaRestartChild() {
    }

    /** Runs the child on {@code prompt} with the demo's options and waits for its report. */
    static Report launch(JlamaDemoOptions o, String prompt) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("lmcache-jlama-restart");
        try {
            return launch(o, prompt, work);
        } finally {
            try (var files = Files.list(work)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(work);
        }
    }

    private static Report launch(JlamaDemoOptions o, String prompt, Path work) throws IOException, InterruptedException {
        Path promptFile = Files.writeString(work.resolve("prompt.txt"), prompt);
        Path out = work.resolve("report.properties");
        Path log = work.resolve("child.log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), JlamaRestartChild.class.getName(),
                o.shape().name(), Long.toString(o.seed()), Integer.toString(o.prefixTokens()),
                Integer.toString(o.newTokens()), Integer.toString(o.warmupTokens()), o.cacheDir().toString(),
                promptFile.toString(), out.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IOException("restart child: no report after " + TIMEOUT_SECONDS + " s; its log:\n" + tail(log));
            }
        } finally {
            if (p.isAlive()) { // timed out, or this thread was interrupted: the child must not outlive the demo
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (p.exitValue() != 0 || !Files.exists(out)) {
            throw new IOException("restart child: exit code " + p.exitValue() + " (expected: 0); its log:\n" + tail(log));
        }
        Properties r = new Properties();
        try (Reader in = Files.newBufferedReader(out)) {
            r.load(in);
        }
        Prefill prefill = new Prefill(Integer.parseInt(r.getProperty("prompt_tokens")),
                Integer.parseInt(r.getProperty("retrieved_tokens")), Integer.parseInt(r.getProperty("stored_tokens")),
                Long.parseLong(r.getProperty("retrieve_ns")), Long.parseLong(r.getProperty("compute_ns")),
                Long.parseLong(r.getProperty("store_ns")));
        Completion c = new Completion(r.getProperty("text"), Long.parseLong(r.getProperty("ttft_ns")), prefill,
                r.getProperty("kv_digest"));
        return new Report(c, r.getProperty("hit_tier"), r.getProperty("stats"));
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of("(no log)");
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }

    /**
     * This JVM's own flags (heap, GC, {@code JAVA_OPTS}, system properties), so the fresh JVM runs as the first one
     * did, without agents or debuggers; plus the flags Jlama and the cache need, and quiet logging.
     */
    private static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>();
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-agentlib") && !arg.startsWith("-agentpath") && !arg.startsWith("-javaagent")
                    && !arg.startsWith("-Xrunjdwp") && !arg.contains("FlightRecording")) {
                flags.add(arg);
            }
        }
        flags.addAll(List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "--add-modules", "jdk.incubator.vector", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        return flags;
    }

    /** {@code shape seed prefixTokens newTokens warmupTokens cacheDir promptFile reportFile}. */
    public static void main(String[] args) throws IOException {
        JlamaDemoOptions o = new JlamaDemoOptions(JlamaShape.named(args[0]), Long.parseLong(args[1]),
                Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]), Path.of(args[5]), false);
        String prompt = Files.readString(Path.of(args[6]));
        Properties r = new Properties();
        try (KvConnector cache = KvConnectors.open(JlamaDemo.config(o), SeededJlama.layout(o.shape()));
             CachingLlamaModel model = SeededJlama.cached(o.shape(), o.seed(), cache)) {
            cache.awaitReady(Duration.ofSeconds(60));
            for (int warmup : JlamaDemoOptions.RESTART_WARMUP_PROMPTS) {
                Completion.greedy(model, o.warmupPrompt(warmup), 2);
            }
            var before = cache.stats().retrievedTokensByTier();
            Completion c = Completion.greedy(model, prompt, o.newTokens(), o.prefixTokens());
            var after = cache.stats().retrievedTokensByTier();
            r.setProperty("text", c.text());
            r.setProperty("ttft_ns", Long.toString(c.ttftNanos()));
            r.setProperty("kv_digest", String.valueOf(c.kvDigest()));
            r.setProperty("prompt_tokens", Integer.toString(c.prefill().promptTokens()));
            r.setProperty("retrieved_tokens", Integer.toString(c.prefill().retrievedTokens()));
            r.setProperty("stored_tokens", Integer.toString(c.prefill().storedTokens()));
            r.setProperty("retrieve_ns", Long.toString(c.prefill().retrieveNanos()));
            r.setProperty("compute_ns", Long.toString(c.prefill().computeNanos()));
            r.setProperty("store_ns", Long.toString(c.prefill().storeNanos()));
            r.setProperty("hit_tier", JlamaDemo.hitTier(before, after));
            r.setProperty("stats", StatsLine.of(cache.stats()));
        }
        try (Writer w = Files.newBufferedWriter(Path.of(args[7]))) {
            r.store(w, "lmcache4j jlama-demo restart report");
        }
    }
}
