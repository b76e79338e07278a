package org.lmcache4j.examples.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
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
 * What a codec's rounding does to the model's output: each prompt runs once without a cache (the
 * reference) and once with its prefix served from a disk tier that stored it through the codec, and the
 * two next-token distributions are compared (KL divergence, in nats) along with the greedy tokens
 * generated. The connector runs without a cpu tier, so every hit is decoded from disk.
 *
 * <p>With the reference engine's seeded random weights this measures the mechanism (how far quantized
 * KV moves the logits of this network), not text quality: real models' KV has outlier channels that
 * random weights do not make. {@code raw} and a lossless codec are controls: their KL must be 0 and
 * their agreement 100%.
 */
final class CodecQuality {

    private CodecQuality() {
    }

    /** One codec's figures over every prompt. */
    record Result(String codec, int prompts, double meanKl, double maxKl, double firstTokenAgreement, double allTokensAgreement,
                  long cachedTokens) {

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("codec", codec);
            m.put("prompts", prompts);
            m.put("mean_kl_nats", meanKl);
            m.put("max_kl_nats", maxKl);
            m.put("first_token_agreement", firstTokenAgreement);
            m.put("all_tokens_agreement", allTokensAgreement);
            m.put("cached_tokens", cachedTokens);
            return m;
        }
    }

    /**
     * Runs {@code prompts} prompts of {@code promptTokens} random tokens (seeded) for each codec and returns
     * the figures; the disk tiers live under {@code dir}.
     */
    static List<Result> run(LlamaEngine engine, String modelId, Path dir, List<String> codecs, int prompts, int promptTokens,
                            int newTokens, Consumer<String> progress) throws IOException {
        int vocab = engine.shape().vocabSize();
        List<int[]> inputs = new ArrayList<>();
        List<Output> references = new ArrayList<>();
        for (int p = 0; p < prompts; p++) {
            SplittableRandom r = new SplittableRandom(1_000 + p);
            int[] prompt = r.ints(promptTokens, 0, vocab).toArray();
            inputs.add(prompt);
            try (Generation g = engine.generate(prompt, newTokens)) {
                references.add(new Output(g.firstLogits().clone(), g.tokens().clone()));
            }
            progress.accept("reference " + (p + 1) + "/" + prompts);
        }
        List<Result> results = new ArrayList<>();
        for (String codec : codecs) {
            results.add(runCodec(engine, modelId, dir.resolve(codec.replace('+', '_')), codec, inputs, references, newTokens,
                    progress));
        }
        return results;
    }

    /** What a request produced: the next-token logits after the prompt and the greedy tokens. */
    private record Output(float[] firstLogits, int[] tokens) {
    }

    private static Result runCodec(LlamaEngine engine, String modelId, Path dir, String codec, List<int[]> inputs,
                                   List<Output> references, int newTokens, Consumer<String> progress) {
        LmCacheConfig config = LmCacheConfig.builder().modelId(modelId).localCpu(false).localDisk(dir).diskCodec(codec).build();
        double klSum = 0;
        double klMax = 0;
        int firstSame = 0;
        int allSame = 0;
        long cached = 0;
        try (KvConnector cache = KvConnectors.open(config, engine.kvLayout())) {
            cache.awaitReady(Duration.ofSeconds(30));
            cache.clear();
            for (int p = 0; p < inputs.size(); p++) {
                int[] prompt = inputs.get(p);
                try (Generation stored = engine.generate(prompt, 1, cache, done -> { })) {
                    if (stored.storedTokens() == 0) {
                        throw new IllegalStateException("codec " + codec + ": prompt " + p + " was not stored");
                    }
                }
                try (Generation hit = engine.generate(prompt, newTokens, cache, done -> { })) {
                    if (hit.cachedTokens() == 0) {
                        throw new IllegalStateException("codec " + codec + ": prompt " + p + " did not hit the disk tier");
                    }
                    Output ref = references.get(p);
                    double kl = klDivergence(ref.firstLogits(), hit.firstLogits());
                    klSum += kl;
                    klMax = Math.max(klMax, kl);
                    firstSame += ref.tokens()[0] == hit.tokens()[0] ? 1 : 0;
                    allSame += Arrays.equals(ref.tokens(), hit.tokens()) ? 1 : 0;
                    cached += hit.cachedTokens();
                }
                progress.accept(codec + " " + (p + 1) + "/" + inputs.size());
            }
            cache.clear();
        }
        int n = inputs.size();
        return new Result(codec, n, klSum / n, klMax, firstSame / (double) n, allSame / (double) n, cached);
    }

    /** KL(p || q) in nats of the softmax distributions of two logit vectors, in double precision. */
    static double klDivergence(float[] logitsP, float[] logitsQ) {
        if (logitsP.length != logitsQ.length) {
            throw new IllegalArgumentException("logits: " + logitsP.length + " and " + logitsQ.length + " (expected: equal lengths)");
        }
        double[] logP = logSoftmax(logitsP);
        double[] logQ = logSoftmax(logitsQ);
        double kl = 0;
        for (int i = 0; i < logP.length; i++) {
            double p = Math.exp(logP[i]);
            kl += p * (logP[i] - logQ[i]);
        }
        return Math.max(0, kl); // rounding can make an exact 0 slightly negative
    }

    private static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        double log = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - log;
        }
        return out;
    }
}
