package org.lmcache4j.api;

/**
 * A store fed one layer at a time ({@link KvConnector#storeLayerwise}): the engine says when it has written a
 * layer's KV of every token, and the connector copies that layer out while the engine computes the next.
 * After the last layer the chunks are published exactly as {@link KvConnector#store} would publish them.
 *
 * <p>The engine must keep the KV of a layer it has announced unchanged, and the memory alive, until
 * {@link #join()} or {@link #close()} returns.
 */
public interface LayerwiseStorage extends AutoCloseable {

    /**
     * The engine has written {@code layer}'s KV of every token of the call; returns at once, the copy runs
     * behind. Layers are announced in order, 0, 1, 2, ..., each once.
     *
     * @throws IllegalArgumentException when {@code layer} is not the next layer
     * @throws IllegalStateException    after {@link #close()}
     */
    void layerDone(int layer);

    /**
     * Waits until the last layer is copied and the chunks are stored; the tokens newly stored, as
     * {@link KvConnector#store} returns them.
     *
     * @throws IllegalStateException when not every layer has been announced, when the store was closed first,
     *                               or when the connector was closed before the chunks were stored
     * @throws RuntimeException      what the copy threw
     */
    int join();

    /**
     * Ends the call: with every layer announced, waits as {@link #join()} does (without throwing); otherwise
     * abandons the store, nothing of it is published. Afterwards the connector never reads engine memory for
     * this call. Idempotent.
     */
    @Override
    void close();
}
