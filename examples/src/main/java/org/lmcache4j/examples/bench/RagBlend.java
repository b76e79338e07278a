package org.lmcache4j.examples.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.blend.Blender;
import org.lmcache4j.examples.engine.Generation;
import org.lmcache4j.examples.engine.KvCheck;
import org.lmcache4j.examples.engine.LlamaEngine;
import org.lmcache4j.examples.engine.SegmentedPrompt;

/**
 * The {@code rag_blend} workload (CacheBlend's case): prompts of a system prompt, 4-6 documents drawn from a pool of 20
 * in random order, and a question. Every document's KV is cached beforehand, as a RAG service caches its corpus: the
 * prompt {@code [system][document]} computed once per document and stored both as a prefix (for prefix caching) and
 * as segments (for blending), in two cpu-only connectors. Then each measured prompt runs in every mode, modes
 * interleaved so that a drift of the machine weighs on all alike: no cache (the reference), prefix caching, and
 * blending at each ratio. Per mode: TTFT p50, and against the no-cache run of the same prompt the KL divergence of the
 * next-token distribution, whether the first token agrees, and the relative L2 distance of the whole prompt's KV
 * ({@link KvCheck#relativeDeviation}). The weights are seeded random: this measures the mechanism (what blending
 * reuses, how far it moves the model's state), not the quality of text.
 */
final class RagBlend {

    static final double[] RATIOS = {0, 0.05, 0.15, 0.3, 1.0};
    static final int POOL = 20;
    static final int SYSTEM_TOKENS = 64;
    static final int MIN_DOC_TOKENS = 128;
    static final int MAX_DOC_TOKENS = 256;
    static final int QUESTION_TOKENS = 32;
    /** The longest prompt: the system prompt, 6 of the longest documents, the question. */
    static final int MAX_PROMPT_TOKENS = SYSTEM_TOKENS + 6 * MAX_DOC_TOKENS + QUESTION_TOKENS;
    private static final long CACHE_BYTES = 512L << 20;

    private final LlamaEngine engine;
    private final String modelId;
    private final int[] system;
    private final List<int[]> pool = new ArrayList<>();
    private final SplittableRandom random;

    RagBlend(LlamaEngine engine, String modelId, long seed) {
        this.engine = engine;
        this.modelId = modelId;
        this.random = new SplittableRandom(seed);
        int vocab = engine.shape().vocabSize();
        this.system = random.ints(SYSTEM_TOKENS, 0, vocab).toArray();
        for (int i = 0; i < POOL; i++) {
            pool.add(random.ints(random.nextInt(MIN_DOC_TOKENS, MAX_DOC_TOKENS + 1), 0, vocab).toArray());
        }
    }

    /** The next prompt: the system prompt, 4 to 6 distinct documents of the pool in random order, a new question. */
    SegmentedPrompt draw() {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < POOL; i++) {
            order.add(i);
        }
        for (int i = POOL - 1; i > 0; i--) {
            java.util.Collections.swap(order, i, random.nextInt(i + 1));
        }
        List<int[]> parts = new ArrayList<>(List.of(system));
        order.subList(0, random.nextInt(4, 7)).forEach(d -> parts.add(pool.get(d)));
        return SegmentedPrompt.of(parts, random.ints(QUESTION_TOKENS, 0, engine.shape().vocabSize()).toArray());
    }

    /** An engine for the workload: room for a prompt's no-cache run and another mode's run at once. */
    static LlamaEngine engine(org.lmcache4j.examples.model.ModelWeights weights) {
        LlamaEngine engine = new LlamaEngine(weights, 2 * MAX_PROMPT_TOKENS + 64, Runtime.getRuntime().availableProcessors(), 512);
        engine.preallocate(2, MAX_PROMPT_TOKENS + 1);
        return engine;
    }

    /** Runs {@code prompts} measured prompts (after one not measured, for the JIT) in every mode; the report's fields. */
    Map<String, Object> run(int prompts, Consumer<String> progress) {
        LmCacheConfig config = LmCacheConfig.builder().modelId(modelId).maxLocalCpuBytes(CACHE_BYTES).localDisk(null).build();
        List<Mode> modes = new ArrayList<>(List.of(new Mode("no_cache", -1), new Mode("prefix_caching", -1)));
        for (double r : RATIOS) {
            modes.add(new Mode("blend", r));
        }
        try (KvConnector prefixCache = KvConnectors.open(config, engine.kvLayout());
             KvConnector blendCache = KvConnectors.open(config, engine.kvLayout())) {
            cacheCorpus(prefixCache, blendCache, progress);
            for (int i = 0; i <= prompts; i++) {
                progress.accept("rag_blend: prompt " + i + " of " + prompts + (i == 0 ? " (warm-up, not measured)" : ""));
                SegmentedPrompt p = draw();
                try (Generation full = engine.generate(p.tokens(), 1)) {
                    for (Mode m : modes) {
                        m.run(p, full, i > 0, prefixCache, blendCache);
                    }
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("prompts", prompts);
        details.put("pool_documents", POOL);
        details.put("documents_per_prompt", "4-6, random order");
        details.put("system_tokens", SYSTEM_TOKENS);
        details.put("document_tokens", MIN_DOC_TOKENS + "-" + MAX_DOC_TOKENS);
        details.put("question_tokens", QUESTION_TOKENS);
        details.put("check_layer", Blender.DEFAULT_CHECK_LAYER);
        details.put("weights", "seeded random: KL and KV deviation measure the mechanism, not text quality");
        details.put("modes", modes.stream().map(Mode::json).toList());
        double prefix = modes.get(1).p50();
        double blend = modes.stream().filter(m -> m.ratio == Blender.DEFAULT_RATIO).findFirst().orElseThrow().p50();
        out.put("rag_blend_ttft_speedup_vs_prefix", round(prefix / blend));
        out.put("rag_blend", details);
        return out;
    }

    /** Each document's KV, computed once behind the system prompt, stored as a prefix and as segments. */
    private void cacheCorpus(KvConnector prefixCache, KvConnector blendCache, Consumer<String> progress) {
        for (int d = 0; d < POOL; d++) {
            progress.accept("rag_blend: caching document " + (d + 1) + " of " + POOL);
            SegmentedPrompt p = SegmentedPrompt.of(List.of(system, pool.get(d)), new int[] {0});
            try (Generation g = engine.generate(p.tokens(), 1)) {
                prefixCache.store(p.tokens(), engine.memory().host(), g.promptSlots());
                blendCache.storeSegments(p.tokens(), p.segments(), engine.memory().host(), g.promptSlots());
            }
        }
    }

    /** One way of running the prompts, and what it measured. */
    private final class Mode {
        final String name;
        final double ratio;
        final List<Double> ttft = new ArrayList<>();
        final List<Double> kl = new ArrayList<>();
        final List<Double> deviation = new ArrayList<>();
        int agree;
        long cached;
        long promptTokens;

        Mode(String name, double ratio) {
            this.name = name;
            this.ratio = ratio;
        }

        void run(SegmentedPrompt p, Generation full, boolean measured, KvConnector prefixCache, KvConnector blendCache) {
            if (name.equals("no_cache")) {
                if (measured) {
                    add(full, full, p);
                }
                return;
            }
            try (Generation g = name.equals("prefix_caching")
                    ? engine.generate(p.tokens(), 1, prefixCache, done -> { })
                    : engine.generateBlended(p.tokens(), p.segments(), 1, blendCache, new Blender(ratio, Blender.DEFAULT_CHECK_LAYER))) {
                if (measured) {
                    add(g, full, p);
                }
            }
        }

        private void add(Generation g, Generation full, SegmentedPrompt p) {
            ttft.add(g.ttftMillis());
            kl.add(KvCheck.klDivergence(full.firstLogits(), g.firstLogits()));
            deviation.add(KvCheck.relativeDeviation(engine.memory().host(), g.promptSlots(), engine.memory().host(),
                    full.promptSlots(), p.tokens().length));
            agree += g.tokens()[0] == full.tokens()[0] ? 1 : 0;
            cached += g.cachedTokens();
            promptTokens += p.tokens().length;
        }

        double p50() {
            double[] sorted = ttft.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            int n = sorted.length;
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mode", name);
            if (ratio >= 0) {
                m.put("ratio", ratio);
            }
            m.put("ttft_ms_p50", round(p50()));
            m.put("ttft_ms", ttft.stream().map(RagBlend::round).toList());
            m.put("reused_token_share", round((double) cached / promptTokens));
            m.put("kl_mean", mean(kl));
            m.put("kv_relative_deviation_mean", mean(deviation));
            m.put("first_token_agreement", round((double) agree / ttft.size()));
            return m;
        }
    }

    private static double mean(List<Double> values) {
        double m = values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        return Double.parseDouble(String.format(java.util.Locale.ROOT, "%.3g", m));
    }

    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** The table of a report's modes, for the console. */
    static String table(Map<String, Object> report) {
        StringBuilder b = new StringBuilder("rag_blend: mode            TTFT p50 ms   reused   KL mean     KV dev.    top-1\n");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> modes = (List<Map<String, Object>>) ((Map<String, Object>) report.get("rag_blend")).get("modes");
        for (Map<String, Object> m : modes) {
            String name = m.get("mode") + (m.containsKey("ratio") ? " " + m.get("ratio") : "");
            b.append(String.format(java.util.Locale.ROOT, "rag_blend: %-15s %11.1f %8.2f %9.3g %10.3g %8.2f%n", name,
                    (Double) m.get("ttft_ms_p50"), (Double) m.get("reused_token_share"), (Double) m.get("kl_mean"),
                    (Double) m.get("kv_relative_deviation_mean"), (Double) m.get("first_token_agreement")));
        }
        b.append("rag_blend: TTFT speedup of blending at 0.15 over prefix caching: ")
                .append(report.get("rag_blend_ttft_speedup_vs_prefix")).append("x\n");
        return b.toString();
    }
}
