package org.lmcache4j.api.spi;

/**
 * A store that copies KV out of device memory one layer at a time, as the engine finishes computing each
 * layer, so the copy of layer l overlaps the computation of layer l+1. Holds the device's copy turn until
 * closed.
 */
public interface LayerwiseStore extends AutoCloseable {

    /**
     * Queues the copy of {@code layer} behind the work the engine has queued on its stream so far (an event
     * recorded there), and returns at once. Layers go in order, each once: 0, 1, 2, ...
     */
    void layerComputed(int layer);

    /** Layers queued so far; the chunk buffers are complete after {@link #close()} when it equals the layer count. */
    int layersQueued();

    /** Waits until every queued layer is in the chunk buffers and ends the turn; idempotent. */
    @Override
    void close();
}
