package org.lmcache4j.examples.demo;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.bench.JitQuiet;
import org.lmcache4j.examples.engine.Generation;
import org.lmcache4j.examples.engine.KvCheck;
import org.lmcache4j.examples.engine.LlamaEngine;

/**
 * The restart scenario's second process: a fresh JVM loads the same model and warms up its JIT on an
 * unrelated prompt through a connector on a scratch directory (a miss that stores, then, reopened, a
 * disk-tier hit), which it deletes. Then it opens the connector on the disk tier the first process filled
 * (its cpu tier starts empty; the report says how many chunks it held at open), warms up on the unrelated
 * prompt through it exactly as the first process did (which also maps the cpu tier's first slab), runs
 * the request, and reports TTFT, hit tier, chunks promoted from disk, and SHA-256 digests of its KV and
 * logits. Around the request it reads the same chunk files plainly, in the same page-cache state
 * ({@link ChunkFileBaseline}: cold, evicted before each read, unless the request asks for warm), as the
 * baseline of the retrieve.
 * Arguments: the request file and the report file, both {@link Properties}.
 */
public final class RestartChild {

    private RestartChild() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: RestartChild <request.properties> <report.properties>");
            System.exit(2);
        }
        Properties in = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(args[0]))) {
            in.load(r);
        }
        Properties out = run(in);
        try (Writer w = Files.newBufferedWriter(Path.of(args[1]))) {
            out.store(w, "lmcache4j restart child");
        }
    }

    static Properties run(Properties in) throws IOException {
        int[] prompt = tokens(in.getProperty("prompt"));
        int newTokens = Integer.parseInt(in.getProperty("newTokens"));
        int warmupTokens = Integer.parseInt(in.getProperty("warmupTokens"));
        LoadedModel model = LoadedModel.load(Path.of(in.getProperty("model")));
        int capacity = Math.max(prompt.length, warmupTokens + 64) + newTokens + 64;
        Properties out = new Properties();
        try (LlamaEngine engine = new LlamaEngine(model.weights(), capacity, Integer.parseInt(in.getProperty("threads")),
                Integer.parseInt(in.getProperty("prefillChunk")))) {
            engine.preallocate(1, prompt.length + newTokens);
            Path kvDir = Path.of(in.getProperty("kvDir"));
            long cpuBytes = Long.parseLong(in.getProperty("cpuBytes"));
            long diskBytes = Long.parseLong(in.getProperty("diskBytes"));
            warmUp(engine, model, kvDir.resolveSibling(kvDir.getFileName() + "-warmup"), cpuBytes, diskBytes, warmupTokens);
            try (KvConnector cache = KvConnectors.open(model.cacheConfig(kvDir, cpuBytes, diskBytes), engine.kvLayout())) {
                cache.awaitReady(Duration.ofSeconds(30)); // a restarted server's readiness, before its first request
                long cpuChunksAtOpen = cache.stats().tiers().stream().filter(t -> t.name().equals("cpu"))
                        .mapToLong(TierStats::chunks).sum();
                Demo.warmUp(engine, cache, model, warmupTokens, done -> { });
                ChunkFileBaseline.CacheState state = ChunkFileBaseline.CacheState.of(in.getProperty("diskCacheState", "cold"));
                JitQuiet.await();
                try (ChunkFileBaseline raw = ChunkFileBaseline.of(cache, prompt, kvDir, state)) {
                    raw.read();
                    raw.beforeRetrieve();
                    long promotedBefore = cache.stats().promotedChunks();
                    try (Generation g = engine.generate(prompt, newTokens, cache, done -> { })) {
                        report(out, g, engine, prompt.length);
                        out.setProperty("cpuChunksAtOpen", Long.toString(cpuChunksAtOpen));
                        out.setProperty("promotedChunks", Long.toString(cache.stats().promotedChunks() - promotedBefore));
                        raw.read();
                        RawBaseline baseline = raw.result(g.cachedTokens());
                        out.setProperty("rawMs", Double.toString(baseline.ms()));
                        out.setProperty("rawBytes", Long.toString(baseline.bytes()));
                        out.setProperty("rawMethod", baseline.method());
                        out.setProperty("rawCacheState", baseline.cacheState());
                        out.setProperty("rawCacheStateHow", baseline.cacheStateHow());
                    }
                }
            }
        }
        return out;
    }

    static void report(Properties out, Generation g, LlamaEngine engine, int promptTokens) {
        out.setProperty("ttftNanos", Long.toString(g.ttftNanos()));
        out.setProperty("retrieveNanos", Long.toString(g.retrieveNanos()));
        out.setProperty("cachedTokens", Integer.toString(g.cachedTokens()));
        out.setProperty("hitTier", g.hitTier());
        out.setProperty("tokens", join(g.tokens()));
        out.setProperty("logitsSha256", KvCheck.digest(g.firstLogits()));
        out.setProperty("kvSha256", KvCheck.digest(engine.memory().host(), g.promptSlots(), promptTokens));
    }

    /** Compiles every path of the measured request, disk reads included, on a scratch cache it then deletes. */
    private static void warmUp(LlamaEngine engine, LoadedModel model, Path scratch, long cpuBytes, long diskBytes, int tokens)
            throws IOException {
        if (tokens <= 0) {
            return;
        }
        LmCacheConfig config = model.cacheConfig(scratch, cpuBytes, diskBytes);
        int[] prompt = model.tokenizer().encode(Prompts.document(-1, tokens) + Prompts.question(-1, 64));
        try {
            try (KvConnector cache = KvConnectors.open(config, engine.kvLayout())) {
                engine.generate(prompt, 2, cache, done -> { }).close(); // a miss that stores; close drains to disk
            }
            try (KvConnector cache = KvConnectors.open(config, engine.kvLayout())) {
                engine.generate(prompt, 2, cache, done -> { }).close(); // a disk-tier hit
            }
        } finally {
            try (Stream<Path> files = Files.walk(scratch)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    static String join(int[] values) {
        return String.join(",", Arrays.stream(values).mapToObj(Integer::toString).toList());
    }

    static int[] tokens(String joined) {
        return joined == null || joined.isBlank() ? new int[0] : Arrays.stream(joined.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
