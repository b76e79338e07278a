package org.lmcache4j.blend;

/**
 * What a blended prefill did.
 *
 * @param logits              the last position's logits
 * @param promptTokens        positions in the prefill
 * @param cachedTokens        positions whose KV came from the cache (the last position never does)
 * @param recomputedCached    of those, how many were recomputed from the check layer on
 * @param computedTokens      positions computed from the check layer on: the recomputed cached ones and every uncovered one
 * @param meanCheckDeviation  the mean squared L2 distance between fresh and cached K at the check layer, over cached positions
 */
public record BlendResult(float[] logits, int promptTokens, int cachedTokens, int recomputedCached, int computedTokens,
                          double meanCheckDeviation) {
}
