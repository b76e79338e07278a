package org.lmcache4j.examples.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.examples.engine.Generation;
import org.lmcache4j.examples.engine.LlamaEngine;

/**
 * TTFT of a cpu-tier hit with a plain retrieve against a layerwise one (each layer of the prefix awaited just
 * before that layer's attention), in the reference engine, measured in one run: rounds alternate the two, each
 * round on a new question after the same stored prefix, and every round checks that both give the same logits,
 * bit for bit. The ratio is the median over rounds of layerwise TTFT / plain TTFT.
 */
final class LayerwiseTtft {

    private static final int WARMUP_ROUNDS = 3;

    private LayerwiseTtft() {
    }

    static Map<String, Object> run(LlamaEngine engine, String modelId, int prefixTokens, int questionTokens, int rounds,
                                   Consumer<String> progress) {
        int vocab = engine.shape().vocabSize();
        int[] prefix = new SplittableRandom(7).ints(prefixTokens, 0, vocab).toArray();
        LmCacheConfig config = LmCacheConfig.builder().modelId(modelId).noLocalDisk().build();
        List<Double> plain = new ArrayList<>();
        List<Double> layerwise = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        boolean identical = true;
        try (KvConnector cache = KvConnectors.open(config, engine.kvLayout())) {
            progress.accept("prefilling and storing the " + prefixTokens + "-token prefix");
            engine.generate(prompt(prefix, 0, questionTokens, vocab), 1, cache, done -> { }).close();
            for (int round = 1; round <= WARMUP_ROUNDS + rounds; round++) {
                int[] prompt = prompt(prefix, round, questionTokens, vocab);
                boolean layerwiseFirst = round % 2 == 0; // neither always runs first
                Generation a = engine.generate(prompt, 1, cache, done -> { }, layerwiseFirst);
                Generation b = engine.generate(prompt, 1, cache, done -> { }, !layerwiseFirst);
                try (Generation p = layerwiseFirst ? b : a; Generation l = layerwiseFirst ? a : b) {
                    identical &= Arrays.equals(p.firstLogits(), l.firstLogits()) && p.cachedTokens() == l.cachedTokens()
                            && p.cachedTokens() > 0;
                    if (round > WARMUP_ROUNDS) {
                        plain.add(p.ttftMillis());
                        layerwise.add(l.ttftMillis());
                        ratios.add(l.ttftMillis() / p.ttftMillis());
                    }
                }
                progress.accept("round " + round + "/" + (WARMUP_ROUNDS + rounds));
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prefix_tokens", prefixTokens);
        m.put("question_tokens", questionTokens);
        m.put("rounds", rounds);
        m.put("ttft_ms_plain_retrieve", median(plain));
        m.put("ttft_ms_layerwise_retrieve", median(layerwise));
        m.put("layerwise_vs_plain_ttft_ratio", median(ratios));
        m.put("logits_identical", identical);
        return m;
    }

    private static int[] prompt(int[] prefix, int question, int questionTokens, int vocab) {
        int[] p = Arrays.copyOf(prefix, prefix.length + questionTokens);
        SplittableRandom r = new SplittableRandom(1_000 + question);
        for (int i = prefix.length; i < p.length; i++) {
            p[i] = r.nextInt(vocab);
        }
        return p;
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double m = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        return Math.round(m * 1000) / 1000.0;
    }
}
