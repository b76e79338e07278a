package org.lmcache4j.examples.demo;

/**
 * One row of the demo: the same prompt run without and with the cache, and whether the two agree.
 *
 * @param name            scenario and step, e.g. {@code warm (cpu hit)} or {@code chat round 3}
 * @param promptTokens    tokens in the prompt
 * @param cachedTokens    prompt tokens the cached run retrieved instead of computing
 * @param ttftMsNoCache   time to first token with no cache
 * @param ttftMsCache     time to first token with the cache (lookup, retrieve, prefill of the rest)
 * @param retrieveMs      the connector's lookup and retrieve (copying {@code kvBytes} into engine memory): the median of
 *                        {@code retrieveRuns}, whose first is the part of {@code ttftMsCache} it took
 * @param kvBytes         bytes of KV the retrieve delivered: {@code cachedTokens} times the KV bytes per token
 * @param raw             the same bytes moved by plain means, in the same run ({@link RawBaseline#NONE} for a miss)
 * @param hitTier         {@code none}, {@code cpu}, {@code disk} or {@code cpu+disk}
 * @param kvIdentical     the cached run's KV of every prompt token equals the uncached run's, byte for byte
 * @param tokensIdentical both runs generated the same tokens
 * @param logitsIdentical both runs' first-token logits are bit-identical
 * @param generated       the generated tokens (of the cached run)
 * @param retrieveRuns    each lookup and retrieve measured, in milliseconds: the cached run's own, then any repeats of it
 *                        ({@link RetrieveRepeats}); {@code retrieveMs} alone when there were none
 */
record ScenarioResult(String name, int promptTokens, int cachedTokens, double ttftMsNoCache, double ttftMsCache,
                      double retrieveMs, long kvBytes, RawBaseline raw, String hitTier, boolean kvIdentical,
                      boolean tokensIdentical, boolean logitsIdentical, int[] generated, double[] retrieveRuns) {

    ScenarioResult {
        if (raw == null) {
            throw new IllegalArgumentException("raw: null (expected: a baseline, or RawBaseline.NONE for a miss)");
        }
        if (retrieveRuns == null || retrieveRuns.length == 0) {
            throw new IllegalArgumentException("retrieveRuns: " + java.util.Arrays.toString(retrieveRuns)
                    + " (expected: at least the cached run's own retrieve)");
        }
    }

    /** A row whose retrieve was measured once, in the cached run. */
    ScenarioResult(String name, int promptTokens, int cachedTokens, double ttftMsNoCache, double ttftMsCache,
                   double retrieveMs, long kvBytes, RawBaseline raw, String hitTier, boolean kvIdentical,
                   boolean tokensIdentical, boolean logitsIdentical, int[] generated) {
        this(name, promptTokens, cachedTokens, ttftMsNoCache, ttftMsCache, retrieveMs, kvBytes, raw, hitTier, kvIdentical,
                tokensIdentical, logitsIdentical, generated, new double[] {retrieveMs});
    }

    /** TTFT without cache over TTFT with it. */
    double speedup() {
        return ttftMsCache > 0 ? ttftMsNoCache / ttftMsCache : 0;
    }

    /** This row with {@code raw} as its baseline. */
    ScenarioResult withRaw(RawBaseline raw) {
        return new ScenarioResult(name, promptTokens, cachedTokens, ttftMsNoCache, ttftMsCache, retrieveMs, kvBytes, raw, hitTier,
                kvIdentical, tokensIdentical, logitsIdentical, generated, retrieveRuns);
    }

    /** This row with {@code runs} as its retrieves (the cached run's first): {@code retrieveMs} becomes their median. */
    ScenarioResult withRetrieves(double[] runs) {
        return new ScenarioResult(name, promptTokens, cachedTokens, ttftMsNoCache, ttftMsCache, RetrieveRepeats.median(runs), kvBytes,
                raw, hitTier, kvIdentical, tokensIdentical, logitsIdentical, generated, runs.clone());
    }

    /** The retrieve's time over the plain move's; NaN when either is missing. */
    double retrieveVsRaw() {
        return retrieveMs > 0 && raw.ms() > 0 ? retrieveMs / raw.ms() : Double.NaN;
    }
}
