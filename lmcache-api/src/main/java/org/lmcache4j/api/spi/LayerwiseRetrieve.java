package org.lmcache4j.api.spi;

/**
 * A retrieve that loads KV into device memory one layer at a time, in layer order, each layer announced by
 * its own event, so the engine can compute layer l while layer l+1 loads. Every layer is queued when it is
 * made; it holds the device's copy turn and needs the chunk buffers unchanged until closed.
 */
public interface LayerwiseRetrieve extends AutoCloseable {

    /**
     * Makes the engine's stream wait, on the device and without blocking this thread, until {@code layer}
     * is in device memory; the engine calls it before queuing that layer's attention.
     */
    void awaitLayer(int layer);

    /** Waits until every layer is loaded and ends the turn; idempotent. */
    @Override
    void close();
}
