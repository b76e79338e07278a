package org.lmcache4j.examples.engine;

/**
 * The outcome of one request: what was generated, how long the first token took, and how much of the
 * prompt came from the cache. Holds the request's sequence (its KV stays in engine memory for
 * comparisons) until closed.
 *
 * @param prompt        the prompt's tokens
 * @param tokens        the generated tokens (greedy), the first one from the prefill's logits
 * @param firstLogits   the logits the first token was chosen from
 * @param ttftNanos     request start to first token: lookup, retrieve, prefill of the rest, logits, sampling
 * @param retrieveNanos the part of TTFT spent in the connector's lookup and retrieve, which copies the cached prefix's KV
 *                      into engine memory (0 without a cache); rebuilding attention's copies of it afterwards is engine
 *                      work, counted in TTFT only
 * @param cachedTokens  prompt tokens retrieved from the cache instead of computed
 * @param hitTier       where they came from: {@code none}, {@code cpu}, {@code disk} or {@code cpu+disk}
 * @param storedTokens  prompt tokens newly stored in the cache after the first token
 * @param storeNanos    time the request's thread spent on that store, not part of TTFT: starting it, and waiting
 *                      at the end for the part of the copy that decoding did not cover
 * @param sequence      the request's KV in engine memory
 */
public record Generation(int[] prompt, int[] tokens, float[] firstLogits, long ttftNanos, long retrieveNanos,
                         int cachedTokens, String hitTier,
                         int storedTokens, long storeNanos, Sequence sequence) implements AutoCloseable {

    /** TTFT in milliseconds. */
    public double ttftMillis() {
        return ttftNanos / 1e6;
    }

    /** {@link #retrieveNanos} in milliseconds. */
    public double retrieveMillis() {
        return retrieveNanos / 1e6;
    }

    /** The slots of the prompt's tokens in engine memory. */
    public int[] promptSlots() {
        return sequence.slots(prompt.length);
    }

    /** Frees the request's KV blocks. */
    @Override
    public void close() {
        sequence.close();
    }
}
