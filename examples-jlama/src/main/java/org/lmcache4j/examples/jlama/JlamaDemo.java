package org.lmcache4j.examples.jlama;

import com.github.tjake.jlama.model.llama.LlamaModel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.nativeio.Libc;

/**
 * Jlama with and without lmcache4j, as an engine would run it: JIT warm-up, a request without the cache, a
 * cold request that stores a long prefix, a request sharing that prefix, then a fresh JVM on the same disk
 * tier asking the same. Every request goes through Jlama's own {@code generate()}.
 */
final class JlamaDemo {

    private final JlamaDemoOptions o;
    private final PrintStream log;

    JlamaDemo(JlamaDemoOptions options, PrintStream log) {
        this.o = options;
        this.log = log;
    }

    JlamaDemoResult run() throws IOException, InterruptedException {
        long wallStart = System.nanoTime();
        String cold = o.prompt(true);
        String warm = o.prompt(false);
        Completion noCache;
        Completion first;
        Completion cached;
        String cachedTier;
        String stats;
        log.printf("Jlama %s, model %s (random weights, seed %d), prompt of %,d tokens sharing a %,d-token prefix%n",
                JlamaDemoResult.JLAMA_VERSION, o.shape().name(), o.seed(), Completion.promptTokens(warm), o.prefixTokens());
        try (KvConnector cache = KvConnectors.open(config(o), SeededJlama.layout(o.shape()));
             LlamaModel plain = SeededJlama.plain(o.shape(), o.seed());
             CachingLlamaModel model = SeededJlama.cached(o.shape(), o.seed(), cache)) {
            cache.clear(); // this model's chunks from an earlier run
            cache.awaitReady(Duration.ofSeconds(60));
            warmUp(plain, model);
            step("no cache: Jlama prefills every token");
            noCache = Completion.greedy(plain, warm, o.newTokens());
            done(noCache);
            step("cold: a miss, then the prefix is stored");
            first = Completion.greedy(model, cold, o.newTokens(), o.prefixTokens());
            done(first);
            step("cache: the same prefix, another question");
            Map<String, Long> before = cache.stats().retrievedTokensByTier();
            cached = Completion.greedy(model, warm, o.newTokens(), o.prefixTokens());
            cachedTier = hitTier(before, cache.stats().retrievedTokensByTier());
            done(cached);
            stats = StatsLine.of(cache.stats());
        }
        if (o.dropPageCache()) {
            dropPageCache(o.cacheDir());
        }
        step("restart: a fresh JVM on the same disk tier" + (o.dropPageCache() ? " (its files dropped from the page cache)" : ""));
        JlamaRestartChild.Report restart = JlamaRestartChild.launch(o, warm);
        log.printf("%,.0f ms to first token (%,d tokens from %s)%n", restart.completion().ttftNanos() / 1e6,
                restart.completion().prefill().retrievedTokens(), restart.hitTier());
        return new JlamaDemoResult(o, Completion.promptTokens(warm), noCache, first, cached, cachedTier, restart, stats,
                (System.nanoTime() - wallStart) / 1e9);
    }

    static LmCacheConfig config(JlamaDemoOptions o) {
        return LmCacheConfig.builder().modelId(SeededJlama.modelId(o.shape(), o.seed()))
                .chunkTokens(JlamaDemoOptions.CHUNK_TOKENS).localDisk(o.cacheDir()).build();
    }

    private void warmUp(LlamaModel plain, CachingLlamaModel model) {
        int rounds = JlamaDemoOptions.WARMUP_PROMPTS.length;
        for (int round = 0; round < rounds; round++) {
            step("JIT warm-up " + (round + 1) + "/" + rounds + ": a " + o.warmupTokens()
                    + "-token prompt with and without the cache");
            String prompt = o.warmupPrompt(JlamaDemoOptions.WARMUP_PROMPTS[round]);
            Completion.greedy(plain, prompt, 2);
            Completion c = Completion.greedy(model, prompt, 2);
            log.printf("%,.0f ms%n", c.ttftNanos() / 1e6);
        }
    }

    private void step(String what) {
        log.print("  " + what + " ... ");
        log.flush();
    }

    private void done(Completion c) {
        if (c.prefill() == null) {
            log.printf("%,.0f ms to first token%n", c.ttftNanos() / 1e6);
        } else {
            log.printf("%,.0f ms to first token (%,d tokens retrieved, %,d stored)%n", c.ttftNanos() / 1e6,
                    c.prefill().retrievedTokens(), c.prefill().storedTokens());
        }
    }

    private void dropPageCache(Path dir) throws IOException {
        Libc libc = Libc.instance().orElse(null);
        if (libc == null) {
            log.println("  (page cache left as it is: no libc here)");
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                libc.dropFromPageCache(p.toString());
            }
        }
    }

    /** The tier (or tiers) whose retrieved-token count grew between two snapshots of the stats. */
    static String hitTier(Map<String, Long> before, Map<String, Long> after) {
        List<String> tiers = new ArrayList<>();
        after.forEach((tier, tokens) -> {
            if (tokens > before.getOrDefault(tier, 0L)) {
                tiers.add(tier);
            }
        });
        return tiers.isEmpty() ? "none" : String.join("+", tiers);
    }
}
