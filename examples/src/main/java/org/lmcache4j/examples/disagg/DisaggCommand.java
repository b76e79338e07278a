package org.lmcache4j.examples.disagg;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.examples.engine.Generation;
import org.lmcache4j.examples.engine.KvCheck;
import org.lmcache4j.examples.engine.LlamaEngine;
import org.lmcache4j.examples.model.ModelSize;
import org.lmcache4j.examples.model.ModelWeights;
import org.lmcache4j.examples.model.SeededWeights;

/**
 * Prefill/decode disaggregation through the remote tier: {@code bin/lmcache prefill} computes a prompt
 * and stores its KV in Redis/Valkey; {@code bin/lmcache decode}, another process (on another machine),
 * retrieves that KV and generates. With {@code --verify}, decode also computes everything locally and
 * compares the KV byte for byte and the generated tokens, and prints the local recompute's TTFT beside
 * the decode's. Both roles warm up first (JIT; engine memory is touched at construction), so the TTFTs
 * are those of a serving process, not of a cold JVM.
 *
 * <pre>
 * bin/lmcache prefill --remote-url redis://host:6379 [--model-size smollm-135m] [--prompt-tokens 2048] [--seed 7]
 * bin/lmcache decode  --remote-url redis://host:6379 [same options] [--new-tokens 16] [--verify]
 * </pre>
 */
public final class DisaggCommand {

    private DisaggCommand() {
    }

    /** Parsed options of both roles. */
    record Options(String role, String remoteUrl, ModelSize size, int promptTokens, long seed, int newTokens, boolean verify,
                   Path cacheDir) {

        static Options parse(String role, String[] args) {
            String url = null;
            ModelSize size = ModelSize.SMOLLM_135M;
            int promptTokens = 2048;
            long seed = 7;
            int newTokens = 16;
            boolean verify = false;
            Path cacheDir = Path.of("lmcache-cache");
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--remote-url" -> url = value(args, ++i);
                    case "--model-size" -> size = ModelSize.of(value(args, ++i));
                    case "--prompt-tokens" -> promptTokens = Integer.parseInt(value(args, ++i));
                    case "--seed" -> seed = Long.parseLong(value(args, ++i));
                    case "--new-tokens" -> newTokens = Integer.parseInt(value(args, ++i));
                    case "--verify" -> verify = true;
                    case "--cache-dir" -> cacheDir = Path.of(value(args, ++i));
                    default -> throw new IllegalArgumentException("option: '" + args[i] + "' (expected: --remote-url, --model-size, "
                            + "--prompt-tokens, --seed, --new-tokens, --verify, --cache-dir)");
                }
            }
            if (url == null) {
                throw new IllegalArgumentException("--remote-url: missing (expected: redis://host:port, valkey://..., rediss://...)");
            }
            if (promptTokens < 2 || newTokens < 1) {
                throw new IllegalArgumentException("--prompt-tokens " + promptTokens + ", --new-tokens " + newTokens
                        + " (expected: at least 2 and 1)");
            }
            return new Options(role, url, size, promptTokens, seed, newTokens, verify, cacheDir);
        }

        private static String value(String[] args, int i) {
            if (i >= args.length) {
                throw new IllegalArgumentException(args[i - 1] + ": missing value");
            }
            return args[i];
        }
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"); // as the demo: results, not the connector's info lines
        }
        if (args.length == 0 || !(args[0].equals("prefill") || args[0].equals("decode"))) {
            throw new IllegalArgumentException("role: " + (args.length == 0 ? "missing" : "'" + args[0] + "'")
                    + " (expected: prefill or decode)");
        }
        Options o = Options.parse(args[0], Arrays.copyOfRange(args, 1, args.length));
        ModelWeights weights = SeededWeights.load(o.size(), o.cacheDir());
        int[] prompt = prompt(o, weights.shape().vocabSize());
        // Only the remote tier is shared: the cpu tier is this process's own, and no disk tier.
        LmCacheConfig config = LmCacheConfig.builder().fromEnvironment().modelId(weights.cacheModelId("seeded-" + o.size())).noLocalDisk()
                .remoteUrl(o.remoteUrl()).build();
        try (LlamaEngine engine = new LlamaEngine(weights, 2 * (prompt.length + o.newTokens()) + 64,
                Runtime.getRuntime().availableProcessors(), 512)) {
            // the engine's memory is touched at construction; attention's copies for the two requests alive at once now
            engine.preallocate(2, prompt.length + o.newTokens());
            warmUp(engine, config, warmUpPrompt(o, weights.shape().vocabSize()), o.role().equals("decode"));
            try (KvConnector cache = KvConnectors.open(config, engine.kvLayout())) {
                for (String line : o.role().equals("prefill") ? prefill(engine, cache, prompt) : decode(engine, cache, prompt, o)) {
                    System.out.println(line);
                }
            }
        }
    }

    /**
     * Lets the JIT compile the measured paths first, as the demo does, on a prompt unrelated to the
     * measured one. Prefill: the prompt computed without a cache. Decode: the prompt through a connector
     * (a miss that stores, written to the remote tier at close), then through a new connector whose cpu
     * tier is empty, so the retrieve comes from the remote tier as the measured one will. The warm-up
     * prompt's chunks stay in the remote store, in this model's namespace.
     */
    static void warmUp(LlamaEngine engine, LmCacheConfig config, int[] prompt, boolean throughRemote) {
        if (!throughRemote) {
            engine.generate(prompt, 2).close();
            return;
        }
        for (int i = 0; i < 2; i++) {
            try (KvConnector cache = KvConnectors.open(config, engine.kvLayout())) {
                engine.generate(prompt, 2, cache, done -> { }).close();
            }
        }
    }

    /** The warm-up prompt: as long as the measured one, at most 1,024 tokens, from another seed. */
    static int[] warmUpPrompt(Options o, int vocab) {
        return new SplittableRandom(~o.seed()).ints(Math.min(1024, o.promptTokens()), 0, vocab).toArray();
    }

    private static List<String> prefill(LlamaEngine engine, KvConnector cache, int[] prompt) {
        try (Generation g = engine.generate(prompt, 1, cache, done -> { })) {
            return List.of(String.format(Locale.ROOT, "prefill: %d prompt tokens computed in %.0f ms, %d stored (written to the "
                    + "remote tier before exit)", prompt.length, g.ttftMillis(), g.storedTokens()));
        }
    }

    private static List<String> decode(LlamaEngine engine, KvConnector cache, int[] prompt, Options o) {
        List<String> out = new ArrayList<>();
        try (Generation g = engine.generate(prompt, o.newTokens(), cache, done -> { })) {
            out.add(String.format(Locale.ROOT, "decode: %d of %d prompt tokens from the %s tier, TTFT %.0f ms (%.0f ms of it "
                    + "retrieving %.1f MiB of KV)", g.cachedTokens(), prompt.length, g.hitTier(), g.ttftMillis(), g.retrieveMillis(),
                    (double) g.cachedTokens() * engine.kvLayout().bytesPerToken() / (1 << 20)));
            String kvDigest = KvCheck.digest(engine.memory().host(), g.promptSlots(), g.cachedTokens());
            if (o.verify()) {
                try (Generation local = engine.generate(prompt, o.newTokens())) {
                    out.add(String.format(Locale.ROOT, "local recompute of the same prompt in this process: TTFT %.0f ms; the decode's "
                            + "TTFT is %.1fx shorter", local.ttftMillis(), local.ttftMillis() / g.ttftMillis()));
                    out.add(String.format(Locale.ROOT, "ttft_ms_decode=%.3f ttft_ms_local_recompute=%.3f", g.ttftMillis(), local.ttftMillis()));
                    out.add("cached_tokens=" + g.cachedTokens());
                    out.add("tokens=" + join(g.tokens()));
                    boolean kv = kvDigest.equals(KvCheck.digest(engine.memory().host(), local.promptSlots(), g.cachedTokens()));
                    boolean same = Arrays.equals(g.tokens(), local.tokens());
                    out.add("kv_identical=" + kv + " tokens_identical=" + same);
                }
            } else {
                out.add("cached_tokens=" + g.cachedTokens());
                out.add("tokens=" + join(g.tokens()));
            }
        }
        return out;
    }

    /** The prompt both roles agree on: seeded tokens of the model's vocabulary. */
    static int[] prompt(Options o, int vocab) {
        return new SplittableRandom(o.seed()).ints(o.promptTokens(), 0, vocab).toArray();
    }

    private static String join(int[] values) {
        return Arrays.stream(values).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
