package org.lmcache4j.examples.jlama;

/**
 * What one prompt's prefill did with the cache.
 *
 * @param promptTokens    tokens of the prompt, BOS included
 * @param retrievedTokens prefix tokens whose KV came from the cache (at most {@code promptTokens - 1}: the last
 *                        token is always computed, for its logits)
 * @param storedTokens    tokens whose KV this prefill copied into the cache
 * @param retrieveNanos   time in the connector's retrieve
 * @param computeNanos    time in Jlama's own prefill of the tokens not retrieved
 * @param storeNanos      time in the connector's store
 */
public record Prefill(int promptTokens, int retrievedTokens, int storedTokens, long retrieveNanos, long computeNanos,
                      long storeNanos) {
}
