package org.lmcache4j.gpu;

import org.lmcache4j.api.spi.LayerwiseStore;

/** {@link LayerwiseStore} on a {@link CopyLane}: each layer's gather waits for the engine's stream. */
final class LayerwiseStoreCopy extends LayerwiseCopy implements LayerwiseStore {

    private int queued;

    LayerwiseStoreCopy(CopyLane lane, KvShape shape, ChunkPlan plan, CudaStream engineStream, CopyLane.Turn turn) {
        super(lane, shape, plan, engineStream, turn);
    }

    @Override
    public synchronized void layerComputed(int layer) {
        requireOpen();
        requireLayer(layer);
        if (layer != queued) {
            throw new IllegalArgumentException("layer: " + layer + " (expected: " + queued
                    + "; layers are stored in order, each once)");
        }
        try (CopyLane.Current _ = lane.enter()) {
            followEngine(lane.compute);
            gatherLayer(layer);
        }
        queued++;
    }

    @Override
    public synchronized int layersQueued() {
        return queued;
    }
}
