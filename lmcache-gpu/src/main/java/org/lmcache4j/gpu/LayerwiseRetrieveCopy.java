package org.lmcache4j.gpu;

import java.util.ArrayList;
import java.util.List;
import org.lmcache4j.api.spi.LayerwiseRetrieve;

/**
 * {@link LayerwiseRetrieve} on a {@link CopyLane}: queues every layer at construction, after the work
 * already on the engine's stream, and records one event per layer when its scatter is done.
 */
final class LayerwiseRetrieveCopy extends LayerwiseCopy implements LayerwiseRetrieve {

    private final List<CudaEvent> loaded = new ArrayList<>();

    /** Call with the lane's context current; on failure the caller closes the turn (events are freed here). */
    LayerwiseRetrieveCopy(CopyLane lane, KvShape shape, ChunkPlan plan, CudaStream engineStream, CopyLane.Turn turn) {
        super(lane, shape, plan, engineStream, turn);
        boolean ok = false;
        try {
            for (int layer = 0; layer < shape.numLayers(); layer++) {
                loaded.add(api.createEvent(false));
            }
            followEngine(lane.compute); // only kernels write engine KV; uploads into staging need not wait
            for (int layer = 0; layer < shape.numLayers(); layer++) {
                scatterLayer(layer, loaded.get(layer));
            }
            ok = true;
        } finally {
            if (!ok) {
                api.synchronize(lane.compute);
                api.synchronize(lane.copy);
                release();
            }
        }
    }

    @Override
    public synchronized void awaitLayer(int layer) {
        requireOpen();
        requireLayer(layer);
        try (CopyLane.Current _ = lane.enter()) {
            api.waitFor(engineStream, loaded.get(layer));
        }
    }

    @Override
    void release() {
        for (CudaEvent e : loaded) {
            api.destroyEvent(e);
        }
        loaded.clear();
    }
}
