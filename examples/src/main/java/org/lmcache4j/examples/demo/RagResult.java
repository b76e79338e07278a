package org.lmcache4j.examples.demo;

/**
 * The demo's RAG scenario (CacheBlend): documents stored on their own from one prompt, then a prompt with the same
 * documents in another order, run four ways.
 *
 * @param documents          documents in each prompt
 * @param promptTokens       tokens of the second prompt
 * @param ttftMsNoCache      its TTFT with no cache
 * @param ttftMsPrefix       with prefix caching (what the connector reuses without blending)
 * @param prefixCachedTokens tokens prefix caching reused
 * @param ttftMsBlend        blending at {@code ratio}
 * @param ratio              the share of reused tokens blending recomputed
 * @param blendCachedTokens  tokens blending reused (the system prompt and every document)
 * @param kl                 KL divergence of the blended run's next-token distribution from the no-cache run's, nats
 * @param firstTokenAgrees   the blended run's first token is the no-cache run's
 * @param ttftMsExact        blending at ratio 1.0 (everything recomputed: the exactness check, not a speedup)
 * @param exactIdentical     at ratio 1.0: KV, logits and tokens identical to the no-cache run's
 */
record RagResult(int documents, int promptTokens, double ttftMsNoCache, double ttftMsPrefix, int prefixCachedTokens,
                 double ttftMsBlend, double ratio, int blendCachedTokens, double kl, boolean firstTokenAgrees,
                 double ttftMsExact, boolean exactIdentical) {

    double blendSpeedupVsNoCache() {
        return ttftMsNoCache / ttftMsBlend;
    }

    double blendSpeedupVsPrefix() {
        return ttftMsPrefix / ttftMsBlend;
    }
}
