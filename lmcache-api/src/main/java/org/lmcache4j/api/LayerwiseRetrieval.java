package org.lmcache4j.api;

/**
 * A retrieve that delivers the cached prefix one layer at a time ({@link KvConnector#retrieveLayerwise}), so
 * the engine computes layer {@code l} of the new tokens while later layers are still being copied in.
 *
 * <p>How many tokens it delivers is decided when it starts ({@link #retrievedTokens()}): the engine computes
 * from there on, waiting for each layer with {@link #awaitLayer(int)} before that layer's attention. Until
 * {@link #close()} returns, the connector may still write the slots of the retrieved tokens, and only them;
 * the engine must not free or reuse them before.
 */
public interface LayerwiseRetrieval extends AutoCloseable {

    /** Tokens whose KV this retrieve delivers, counted as {@link KvConnector#retrieve} counts them. */
    int retrievedTokens();

    /**
     * Returns once the KV of {@code layer} (K and V, or the latent) of every retrieved token is in host engine
     * memory; for device memory, makes the engine's stream wait for it instead. Later layers may still be
     * arriving; earlier ones are not implied (await each layer used). Any order, any number of times.
     *
     * @throws IllegalArgumentException when {@code layer} is not a layer of the connector's layout
     * @throws IllegalStateException    when the copy failed (the cause says why) or the connector was closed
     *                                  before the layer arrived
     */
    void awaitLayer(int layer);

    /**
     * Waits until every layer is in place (or the copy has failed), then releases what the retrieve holds.
     * Afterwards the connector never writes engine memory for this call. Idempotent; never throws for a copy
     * that failed (awaitLayer reports that).
     */
    @Override
    void close();

    /** A retrieve whose layers are all in place already (a connector that copied before returning). */
    static LayerwiseRetrieval completed(int retrievedTokens, int numLayers) {
        if (retrievedTokens < 0 || numLayers <= 0) {
            throw new IllegalArgumentException("retrievedTokens: " + retrievedTokens + ", numLayers: " + numLayers
                    + " (expected: retrievedTokens >= 0, numLayers > 0)");
        }
        return new LayerwiseRetrieval() {
            @Override
            public int retrievedTokens() {
                return retrievedTokens;
            }

            @Override
            public void awaitLayer(int layer) {
                Layers.require(layer, numLayers);
            }

            @Override
            public void close() {
            }
        };
    }
}
