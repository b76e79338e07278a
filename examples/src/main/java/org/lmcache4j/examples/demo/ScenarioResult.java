package org.lmcache4j.examples.demo;

/**
 * One row of the demo: the same prompt run without and with the cache, and whether the two agree.
 *
 * @param name            scenario and step, e.g. {@code warm (cpu hit)} or {@code chat round 3}
 * @param promptTokens    tokens in the prompt
 * @param cachedTokens    prompt tokens the cached run retrieved instead of computing
 * @param ttftMsNoCache   time to first token with no cache
 * @param ttftMsCache     time to first token with the cache (lookup, retrieve, prefill of the rest)
 * @param retrieveMs      the part of {@code ttftMsCache} spent in lookup, retrieve and rebuilding attention's copies
 * @param hitTier         {@code none}, {@code cpu}, {@code disk} or {@code cpu+disk}
 * @param kvIdentical     the cached run's KV of every prompt token equals the uncached run's, byte for byte
 * @param tokensIdentical both runs generated the same tokens
 * @param logitsIdentical both runs' first-token logits are bit-identical
 * @param generated       the generated tokens (of the cached run)
 */
record ScenarioResult(String name, int promptTokens, int cachedTokens, double ttftMsNoCache, double ttftMsCache,
                      double retrieveMs, String hitTier, boolean kvIdentical, boolean tokensIdentical, boolean logitsIdentical, int[] generated) {

    /** TTFT without cache over TTFT with it. */
    double speedup() {
        return ttftMsCache > 0 ? ttftMsNoCache / ttftMsCache : 0;
    }
}
