package org.lmcache4j.examples.demo;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.stream.Collectors;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.bench.JitQuiet;
import org.lmcache4j.examples.engine.Generation;
import org.lmcache4j.examples.engine.LlamaEngine;

/**
 * The shared-pool scenario's second engine: a new JVM loads the same model, opens a connector on the node-shared pool
 * the first engine filled (no cpu or disk tier of its own), waits until it is ready (the pool's pages mapped into this
 * process), warms up its JIT through it on an unrelated prompt as the first process did, runs the request, and reports as
 * {@link RestartChild} does, with its retrieve repeated ({@link RetrieveRepeats}); the baseline of its retrieve is a
 * plain copy of the same bytes into the same engine slots out of a file beside the pool, in the same shared memory
 * ({@link RawCopy#inFile}). Arguments: request and report files.
 */
public final class PoolChild {

    /** The report's property listing each retrieve's milliseconds, the request's first ({@link RetrieveRepeats}). */
    static final String RETRIEVE_RUNS = "retrieveRunsMs";

    private PoolChild() {
    }

    /** The retrieves a child's report lists under {@link #RETRIEVE_RUNS}, in milliseconds; none when it lists none. */
    static double[] retrieveRuns(Properties report) {
        String runs = report.getProperty(RETRIEVE_RUNS, "");
        return runs.isEmpty() ? new double[0] : Arrays.stream(runs.split(",")).mapToDouble(Double::parseDouble).toArray();
    }

    public static void main(String[] args) throws IOException {
        Properties in = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(args[0]))) {
            in.load(r);
        }
        int[] prompt = RestartChild.tokens(in.getProperty("prompt"));
        int newTokens = Integer.parseInt(in.getProperty("newTokens"));
        int warmupTokens = Integer.parseInt(in.getProperty("warmupTokens"));
        LoadedModel model = LoadedModel.load(Path.of(in.getProperty("model")));
        Properties out = new Properties();
        try (LlamaEngine engine = new LlamaEngine(model.weights(), Math.max(prompt.length, warmupTokens + 64) + newTokens + 64,
                Integer.parseInt(in.getProperty("threads")), Integer.parseInt(in.getProperty("prefillChunk")));
             RawCopy copy = RawCopy.inFile((long) prompt.length * engine.kvLayout().bytesPerToken(),
                     Path.of(URI.create(in.getProperty("poolUrl")).getPath(), "raw-copy-" + ProcessHandle.current().pid()));
             KvConnector cache = KvConnectors.open(model.poolConfig(in.getProperty("poolUrl")), engine.kvLayout())) {
            engine.preallocate(1, prompt.length + newTokens);
            cache.awaitReady(Duration.ofSeconds(30)); // as a server before its first request: the pool's pages mapped into this JVM
            Demo.warmUp(engine, cache, model, warmupTokens, done -> { });
            JitQuiet.await();
            int[] slots;
            int cached;
            try (Generation g = engine.generate(prompt, newTokens, cache, done -> { })) {
                RestartChild.report(out, g, engine, prompt.length);
                slots = g.promptSlots();
                cached = g.cachedTokens();
            }
            if (cached > 0) {
                double[] runs = RetrieveRepeats.measure(cache, copy, engine.memory().host(), prompt, slots, cached,
                        Long.parseLong(out.getProperty("retrieveNanos")) / 1e6);
                out.setProperty(RETRIEVE_RUNS, Arrays.stream(runs).mapToObj(Double::toString).collect(Collectors.joining(",")));
            }
            RawBaseline raw = copy.measure(engine.memory().host(), slots, cached);
            out.setProperty("rawMs", Double.toString(raw.ms()));
            out.setProperty("rawBytes", Long.toString(raw.bytes()));
            out.setProperty("rawMethod", raw.method());
        }
        try (Writer w = Files.newBufferedWriter(Path.of(args[1]))) {
            out.store(w, "lmcache4j pool child");
        }
    }
}
