package org.lmcache4j.examples.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.function.IntConsumer;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.bench.JitQuiet;
import org.lmcache4j.examples.engine.Generation;
import org.lmcache4j.examples.engine.KvCheck;
import org.lmcache4j.examples.engine.LlamaEngine;
import org.lmcache4j.examples.model.SeededModel;

/**
 * The demo: loads (or generates) a model, then runs each scenario's prompts twice, without and with the
 * cache, and compares the two runs exactly. Scenarios: cold (empty cache), warm (the same document
 * under a new question: a cpu hit), restart (the cold request again in a new JVM: a disk hit), a chat
 * whose history grows each round, questions about one long document, and RAG documents reused in another order
 * ({@link RagDemo}, CacheBlend: approximate by design, so reported beside the rows, with its exactness check at ratio 1.0). Every hit is also timed
 * against the same bytes moved by plain means in the same run ({@link RawCopy} here, {@link
 * ChunkFileBaseline} in the restart child).
 */
final class Demo {

    /** What the restart scenario compares the child's run with: the cold request's uncached run. */
    private record Reference(double ttftMs, int[] tokens, String logitsSha256, String kvSha256) {
    }

    private final DemoOptions o;
    private final PrintStream out;
    private final List<ScenarioResult> results = new ArrayList<>();
    private ProgressBar bar;
    private LoadedModel model;
    private LlamaEngine engine;
    private KvConnector cache;
    private LmCacheConfig config;
    private RawCopy rawCopy;
    private RagResult rag;

    Demo(DemoOptions options, PrintStream out) {
        this.o = options;
        this.out = out;
    }

    DemoSummary run() throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path file = o.modelFile().orElse(null);
        if (file == null) {
            Path models = o.cacheDir().resolve("models");
            if (o.progress() && !Files.exists(models.resolve(SeededModel.fileName(o.size().shape(), o.seed(), o.weights())))) {
                System.err.println("preparing model " + o.size() + " (generated once, then cached in " + models + ")");
            }
            file = SeededModel.cached(o.size().shape(), o.seed(), o.weights(), models);
        }
        model = LoadedModel.load(file);
        config = model.cacheConfig(o.cacheDir().resolve("kv"), o.cpuBytes(), o.diskBytes());
        int[] document = encode(Prompts.document(1, o.prefixTokens()));
        int[] cold = concat(document, encode(Prompts.question(11, o.questionTokens())));
        int[] warm = concat(document, encode(Prompts.question(12, o.questionTokens())));
        int longest = Math.max(Math.max(cold.length, o.warmupTokens() + 64),
                Math.max(Math.max(chatLength(o.chatRounds()), o.docTokens() + o.questionTokens()),
                        o.ragDocuments() > 0 ? RagDemo.promptTokens(o) : 0));
        header(file);
        bar = new ProgressBar(System.err, o.progress(), plannedWork(cold.length));
        double prefillRate;
        try (LlamaEngine e = new LlamaEngine(model.weights(), 2 * (longest + o.newTokens()) + 64,
                o.threads(), o.prefillChunk());
             RawCopy copy = new RawCopy((long) longest * LlamaEngine.kvLayout(model.weights().shape()).bytesPerToken())) {
            engine = e;
            engine.preallocate(2, longest + o.newTokens()); // an uncached and a cached run are alive at once
            rawCopy = copy;
            cache = KvConnectors.open(config, engine.kvLayout());
            cache.awaitReady(Duration.ofSeconds(30));
            try {
                if (!o.keepCache()) {
                    cache.clear();
                }
                bar.step("warming up the JIT (not measured)");
                warmUp(engine, cache, model, o.warmupTokens(), bar::stepProgress);
                Reference reference = scenario("cold (empty cache)", cold, true);
                prefillRate = cold.length / (reference.ttftMs() / 1000);
                scenario("warm (cpu hit)", warm, false);
                if (o.restart()) {
                    restart(cold, reference);
                }
                if (o.pool()) {
                    sharedPool(cold, reference);
                }
                chat();
                documentQuestions();
                if (o.ragDocuments() > 0) {
                    rag = new RagDemo(engine, cache, model, o, bar).run();
                }
            } finally {
                cache.close();
            }
        }
        bar.finish();
        return new DemoSummary(model.id(), file.toString(), model.weights().parameters(),
                engine.kvLayout().bytesPerToken(), o.threads(), config.chunkTokens(), prefillRate,
                (System.nanoTime() - start) / 1e9, results, rag);
    }

    /**
     * Cpu hits the warm-up runs after its miss. The retrieve's per-copy code reaches the JIT's optimizing
     * compiler (C2) after ~15,000 calls, and a hit of the default 1,024-token warm-up makes a few thousand:
     * with one hit, and still with four, -Xlog:jit+compilation showed that compile inside the measured cpu
     * hit, with the C2 thread taking one of the two cores from it. A hit costs ~0.2 s here.
     */
    static final int WARM_UP_HITS = 12;

    /**
     * Lookups of the warm-up prompt after its hits. A server has looked up thousands of prompts before the
     * one that is measured, so its lookup code is compiled; a demo that made a dozen requests before had it
     * interpreted, and the lookup of a 1,024-token chat prompt took 0.2-0.6 ms instead of about 0.02 ms
     * (a probe of 30 lookups, each after the caches were evicted, in a fresh JVM and after 10,000 earlier
     * lookups), which is a tenth or more of the retrieve a chat hit is compared with. A lookup of the
     * warm-up prompt costs ~0.02 ms once compiled, so these take well under a second. Half of them miss a
     * chunk, as most real lookups do: the first runs of the miss path (finding the reason) cost ~0.1 ms.
     */
    static final int WARM_UP_LOOKUPS = 5_000;

    /**
     * Runs an unrelated prompt through the cache, a miss that stores and then {@link #WARM_UP_HITS} cpu
     * hits and {@link #WARM_UP_LOOKUPS} lookups (of its prompt, and of one whose chunk after the document
     * misses), so that the code paths the measured requests take have
     * been compiled by the JIT; nothing is measured.
     */
    static void warmUp(LlamaEngine engine, KvConnector cache, LoadedModel model, int tokens, IntConsumer progress) {
        if (tokens <= 0) {
            return;
        }
        String document = Prompts.document(-1, tokens);
        int[] prompt = null;
        for (int q = 1; q <= 1 + WARM_UP_HITS; q++) {
            prompt = model.tokenizer().encode(document + Prompts.question(-q, 64));
            engine.generate(prompt, 2, cache, progress).close();
        }
        // the document's chunks hit, and the chunk after them misses, as in a chat round or a new question
        int[] partlyCached = model.tokenizer().encode(document + Prompts.question(-2 - WARM_UP_HITS, cache.chunkTokens() + 64));
        for (int i = 0; i < WARM_UP_LOOKUPS; i++) {
            cache.lookup(i % 2 == 0 ? prompt : partlyCached);
        }
    }

    private void header(Path file) {
        var s = model.weights().shape();
        out.printf(Locale.ROOT,
                "lmcache4j demo: %s, %.1fM parameters (%d layers, %d query / %d KV heads of %d), %,d KV bytes/token%n",
                model.id(), model.weights().parameters() / 1e6, s.layers(), s.heads(), s.kvHeads(), s.headDim(),
                LlamaEngine.kvLayout(s).bytesPerToken());
        out.printf(Locale.ROOT, "model file:  %s%s%n", file, o.modelFile().isPresent() ? "" : " (seeded random weights)");
        out.printf(Locale.ROOT, "cache:       cpu tier %.1f GiB + disk tier %.1f GiB in %s (%s), %d-token chunks%n",
                config.maxLocalCpuBytes() / (double) (1L << 30), config.maxLocalDiskBytes() / (double) (1L << 30),
                config.localDisk().orElseThrow(), o.keepCache() ? "kept from earlier runs" : "cleared at start",
                config.chunkTokens());
        out.printf(Locale.ROOT, "engine:      %d threads, F32 compute, prefill chunks of %d, %d new tokens per request%n%n",
                o.threads(), o.prefillChunk(), o.newTokens());
        out.flush();
    }

    /**
     * Runs {@code prompt} without, then with the cache, and records the comparison; for a hit, then repeats its
     * retrieve ({@link RetrieveRepeats}) and moves the same bytes by a plain copy ({@link RawCopy}) as its baseline.
     */
    private Reference scenario(String name, int[] prompt, boolean keepReference) {
        bar.step(name + ": without cache");
        ScenarioResult row;
        int[] cachedSlots;
        Reference reference = null;
        JitQuiet.await();
        try (Generation plain = engine.generate(prompt, o.newTokens(), null, bar::stepProgress)) {
            bar.step(name + ": with cache");
            JitQuiet.await(); // compiles the uncached request queued (code for a longer prompt) take a core otherwise
            try (Generation cached = engine.generate(prompt, o.newTokens(), cache, bar::stepProgress)) {
                cachedSlots = cached.promptSlots();
                var kv = engine.memory().host();
                row = new ScenarioResult(name, prompt.length, cached.cachedTokens(), plain.ttftMillis(),
                        cached.ttftMillis(), cached.retrieveMillis(), kvBytes(cached.cachedTokens()), RawBaseline.NONE,
                        cached.hitTier(), KvCheck.identical(kv, cached.promptSlots(), kv, plain.promptSlots(), prompt.length),
                        Arrays.equals(cached.tokens(), plain.tokens()), Arrays.equals(cached.firstLogits(), plain.firstLogits()),
                        cached.tokens());
            }
            if (keepReference) {
                reference = new Reference(plain.ttftMillis(), plain.tokens(), KvCheck.digest(plain.firstLogits()),
                        KvCheck.digest(engine.memory().host(), plain.promptSlots(), prompt.length));
            }
        }
        // both requests are closed, so no block is in use and the repeats and the baseline may overwrite engine memory
        if (row.cachedTokens() > 0) {
            var kv = engine.memory().host();
            row = row.withRetrieves(RetrieveRepeats.measure(cache, rawCopy, kv, prompt, cachedSlots, row.cachedTokens(), row.retrieveMs()))
                    .withRaw(rawCopy.measure(kv, cachedSlots, row.cachedTokens()));
        }
        results.add(row);
        return reference;
    }

    private long kvBytes(int tokens) {
        return (long) tokens * engine.kvLayout().bytesPerToken();
    }

    /** Closes the connector (draining it to disk), replays the cold request in a new JVM, then reopens. */
    private void restart(int[] prompt, Reference reference) throws InterruptedException {
        String name = "restart (disk hit)";
        bar.step(name + ": new JVM on the disk tier");
        cache.close();
        Properties request = new Properties();
        request.setProperty("model", model.file().toAbsolutePath().toString());
        request.setProperty("kvDir", config.localDisk().orElseThrow().toAbsolutePath().toString());
        request.setProperty("cpuBytes", Long.toString(o.cpuBytes()));
        request.setProperty("diskBytes", Long.toString(o.diskBytes()));
        request.setProperty("prompt", RestartChild.join(prompt));
        request.setProperty("newTokens", Integer.toString(o.newTokens()));
        request.setProperty("threads", Integer.toString(o.threads()));
        request.setProperty("prefillChunk", Integer.toString(o.prefillChunk()));
        request.setProperty("warmupTokens", Integer.toString(o.warmupTokens()));
        request.setProperty("diskCacheState", o.diskCacheState());
        try {
            Properties r = RestartProbe.run(o.cacheDir(), request);
            int[] tokens = RestartChild.tokens(r.getProperty("tokens"));
            int cachedTokens = Integer.parseInt(r.getProperty("cachedTokens"));
            // the child read the same chunk files plainly, in the same page-cache state, as the retrieve's baseline
            RawBaseline raw = new RawBaseline(Double.parseDouble(r.getProperty("rawMs", "NaN")),
                    Long.parseLong(r.getProperty("rawBytes", "0")), r.getProperty("rawMethod", "not reported by the child"),
                    r.getProperty("rawCacheState", "unknown"), r.getProperty("rawCacheStateHow", ""));
            // the tier comes from the chunks the child's retrieve promoted out of the disk tier
            results.add(new ScenarioResult(name, prompt.length, cachedTokens,
                    reference.ttftMs(), Long.parseLong(r.getProperty("ttftNanos")) / 1e6,
                    Long.parseLong(r.getProperty("retrieveNanos")) / 1e6, kvBytes(cachedTokens),
                    cachedTokens > 0 ? raw : RawBaseline.NONE, r.getProperty("hitTier"),
                    reference.kvSha256().equals(r.getProperty("kvSha256")), Arrays.equals(reference.tokens(), tokens),
                    reference.logitsSha256().equals(r.getProperty("logitsSha256")), tokens));
        } catch (IOException | RuntimeException e) {
            System.err.println("\nrestart scenario failed: " + e.getMessage());
            results.add(new ScenarioResult(name, prompt.length, 0, reference.ttftMs(), Double.NaN, Double.NaN, 0,
                    RawBaseline.NONE, "error", false, false, false, new int[0]));
        } finally {
            cache = KvConnectors.open(config, engine.kvLayout());
            // as a server does before it takes traffic: the cpu tier's first pages are faulted in at normal
            // priority, and that work would otherwise fall into the next scenario's requests
            cache.awaitReady(Duration.ofSeconds(30));
            // a server does not reopen its connector; the new one gets the warm-up the first had (its prompt
            // now hits the disk tier, then the cpu tier). The first chat hit after the reopening took 1.81x and
            // 1.93x a plain copy in two runs where later hits were ~1x; this, the copy threads started at open
            // and the idle-JIT wait before cached requests brought it to 0.68-1.30x (docs/PERFORMANCE.md)
            bar.step("warming up the reopened connector (not measured)");
            warmUp(engine, cache, model, o.warmupTokens(), bar::stepProgress);
        }
    }

    /**
     * A second engine process on the node-shared pool: this engine puts the cold request's KV into a pool (from a
     * cpu-tier hit: the same bytes it computed), and a new JVM with no cpu or disk tier of its own, the pool as its
     * only tier, runs the request: its prefix comes from shared memory the first engine wrote. The pool lives in
     * {@code /dev/shm} (tmpfs) where there is one, and is deleted afterwards.
     */
    private void sharedPool(int[] prompt, Reference reference) throws InterruptedException {
        String name = "second engine (pool hit)";
        bar.step(name + ": the first engine puts the prompt in the pool");
        String own = "lmcache4j-demo-" + ProcessHandle.current().pid(); // a scratch pool: two demos at once never share it
        Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm", own) : o.cacheDir().resolve(own);
        int chunk = config.chunkTokens();
        long slots = prompt.length / chunk + (o.warmupTokens() + 64L) / chunk + 8; // the prompt, the child's warm-up, spare
        String url = "pool://" + dir.toUri().getRawPath() + "?size=" + slots * engine.kvLayout().chunkBytes(chunk) * 2;
        try {
            deleteTree(dir);
            try (KvConnector pool = KvConnectors.open(model.poolConfig(url), engine.kvLayout());
                 Generation g = engine.generate(prompt, o.newTokens(), cache, bar::stepProgress)) {
                pool.store(prompt, engine.memory().host(), g.promptSlots());
                Properties request = new Properties();
                request.setProperty("model", model.file().toAbsolutePath().toString());
                request.setProperty("poolUrl", url);
                request.setProperty("prompt", RestartChild.join(prompt));
                request.setProperty("newTokens", Integer.toString(o.newTokens()));
                request.setProperty("threads", Integer.toString(o.threads()));
                request.setProperty("prefillChunk", Integer.toString(o.prefillChunk()));
                request.setProperty("warmupTokens", Integer.toString(o.warmupTokens()));
                bar.step(name + ": a new JVM on the pool");
                Properties r = RestartProbe.run(o.cacheDir(), request, PoolChild.class, "pool");
                int cachedTokens = Integer.parseInt(r.getProperty("cachedTokens"));
                int[] tokens = RestartChild.tokens(r.getProperty("tokens"));
                RawBaseline raw = new RawBaseline(Double.parseDouble(r.getProperty("rawMs", "NaN")),
                        Long.parseLong(r.getProperty("rawBytes", "0")), r.getProperty("rawMethod", "not reported by the child"), "", "");
                ScenarioResult row = new ScenarioResult(name, prompt.length, cachedTokens, reference.ttftMs(),
                        Long.parseLong(r.getProperty("ttftNanos")) / 1e6, Long.parseLong(r.getProperty("retrieveNanos")) / 1e6,
                        kvBytes(cachedTokens), cachedTokens > 0 ? raw : RawBaseline.NONE, r.getProperty("hitTier"),
                        reference.kvSha256().equals(r.getProperty("kvSha256")), Arrays.equals(reference.tokens(), tokens),
                        reference.logitsSha256().equals(r.getProperty("logitsSha256")), tokens);
                double[] retrieves = PoolChild.retrieveRuns(r);
                results.add(retrieves.length > 0 ? row.withRetrieves(retrieves) : row);
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("\nshared-pool scenario failed: " + e.getMessage());
            results.add(new ScenarioResult(name, prompt.length, 0, reference.ttftMs(), Double.NaN, Double.NaN, 0,
                    RawBaseline.NONE, "error", false, false, false, new int[0]));
        } finally {
            try {
                deleteTree(dir);
            } catch (IOException e) {
                System.err.println("\ncould not delete the demo's pool " + dir + ": " + e.getMessage());
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** A chat: each round's prompt is the whole history plus a new user turn; a canned reply joins the history. */
    private void chat() {
        String history = Prompts.turn("System", 100, o.chatTurnTokens() - o.questionTokens());
        for (int r = 1; r <= o.chatRounds(); r++) {
            String user = Prompts.turn("User", 100 + r, o.questionTokens());
            scenario("chat round " + r, encode(history + user), false);
            history = history + user + Prompts.turn("Assistant", 200 + r, o.chatTurnTokens() - o.questionTokens());
        }
    }

    /** One long document, several questions about it: the first reads the document, the others reuse it. */
    private void documentQuestions() {
        String document = Prompts.document(2, o.docTokens());
        for (int q = 1; q <= o.questions(); q++) {
            scenario("doc QA question " + q, encode(document + Prompts.question(20 + q, o.questionTokens())), false);
        }
    }

    private int chatLength(int rounds) {
        return rounds * o.chatTurnTokens();
    }

    /** Prefill tokens the demo expects to compute: the progress bar's 100 %. */
    private long plannedWork(int coldLength) {
        long chunk = config.chunkTokens();
        long prefix = o.prefixTokens() / chunk * chunk;
        long work = o.warmupTokens() + 64L * (1 + WARM_UP_HITS) + 2L * coldLength + coldLength + (coldLength - prefix);
        if (o.restart()) {
            work += o.warmupTokens() + 64L * (1 + WARM_UP_HITS) + coldLength - prefix; // the child
            work += 64L * (1 + WARM_UP_HITS); // the reopened connector's warm-up: its document hits
        }
        for (int r = 1; r <= o.chatRounds(); r++) {
            work += chatLength(r) + (r == 1 ? chatLength(1) : o.chatTurnTokens());
        }
        long qa = o.docTokens() + o.questionTokens();
        work += o.ragDocuments() > 0 ? 2L * RagDemo.promptTokens(o) : 0; // the rag scenario's no-cache and prefix-cached runs
        return work + (o.questions() > 0 ? qa + qa + (o.questions() - 1L) * (qa + qa - o.docTokens() / chunk * chunk) : 0);
    }

    private int[] encode(String text) {
        return model.tokenizer().encode(text);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
