package org.lmcache4j.gpu;

import java.lang.foreign.MemorySegment;

/**
 * What layerwise stores and retrieves share: the device's turn, the plan, the per-layer kernel and copy
 * steps, and the wait for everything at close.
 *
 * <p>Zero-copy (every chunk in registered host memory): one launch per chunk and layer reads or writes
 * the chunk's layer rows in place. Staged: one launch per layer moves that layer of every chunk through
 * staging buffer {@code layer % 2}, laid out {@code [plane][token of all chunks][row]}, and one transfer per
 * chunk and plane moves it to or from the chunk's rows of that layer; {@code filled}/{@code drained}
 * events let layer l's transfer overlap layer l+1's kernel, as in {@link ChunkPipeline}.
 */
abstract class LayerwiseCopy implements AutoCloseable {

    final CopyLane lane;
    final DeviceApi api;
    final KvShape shape;
    final ChunkPlan plan;
    final CudaStream engineStream;
    private final CopyLane.Turn turn;
    private final DevicePtr[] stage;
    private boolean closed;

    /** Takes over {@code turn}; call with the lane's context current. */
    LayerwiseCopy(CopyLane lane, KvShape shape, ChunkPlan plan, CudaStream engineStream, CopyLane.Turn turn) {
        this.lane = lane;
        this.api = lane.api;
        this.shape = shape;
        this.plan = plan;
        this.engineStream = engineStream;
        this.turn = turn;
        this.stage = plan.allMapped() ? new DevicePtr[0]
                : ChunkPipeline.staging(lane, (long) shape.planes() * plan.totalTokens() * shape.rowBytes());
    }

    /** Makes {@code stream} wait for the work queued on the engine's stream so far. */
    final void followEngine(CudaStream stream) {
        api.record(lane.engineMark, engineStream);
        api.waitFor(stream, lane.engineMark);
    }

    /** Queues layer {@code layer}: engine KV -> chunk buffers. */
    final void gatherLayer(int layer) {
        DevicePtr layerPointer = plan.layerTable().plus((long) layer * Long.BYTES);
        if (stage.length == 0) {
            for (ChunkPlan.Chunk c : plan.chunks()) {
                lane.launch(inPlace(layerPointer, c, layer), true, lane.compute);
            }
            return;
        }
        int b = layer % 2;
        if (layer >= 2) {
            api.waitFor(lane.compute, lane.drained[b]);
        }
        if (plan.anySkips()) { // rows of skipped tokens must keep the chunk's bytes
            transfer(layer, b, true, lane.compute);
        }
        lane.launch(staged(layerPointer, b), true, lane.compute);
        api.record(lane.filled[b], lane.compute);
        api.waitFor(lane.copy, lane.filled[b]);
        transfer(layer, b, false, lane.copy);
        api.record(lane.drained[b], lane.copy);
    }

    /** Queues layer {@code layer}: chunk buffers -> engine KV; then records {@code loaded} on the compute stream. */
    final void scatterLayer(int layer, CudaEvent loaded) {
        DevicePtr layerPointer = plan.layerTable().plus((long) layer * Long.BYTES);
        if (stage.length == 0) {
            for (ChunkPlan.Chunk c : plan.chunks()) {
                lane.launch(inPlace(layerPointer, c, layer), false, lane.compute);
            }
            api.record(loaded, lane.compute);
            return;
        }
        int b = layer % 2;
        if (layer >= 2) {
            api.waitFor(lane.copy, lane.drained[b]);
        }
        transfer(layer, b, true, lane.copy);
        api.record(lane.filled[b], lane.copy);
        api.waitFor(lane.compute, lane.filled[b]);
        lane.launch(staged(layerPointer, b), false, lane.compute);
        api.record(loaded, lane.compute);
        api.record(lane.drained[b], lane.compute);
    }

    /** One layer of one chunk, read or written in place: its K rows, and its V rows one K/V plane further. */
    private KvCopyArgs inPlace(DevicePtr layerPointer, ChunkPlan.Chunk c, int layer) {
        long layerBytes = (long) c.tokens() * shape.rowBytes();
        return shape.oneLayer(layerPointer, plan.slots(c), c.tokens(), c.mapped().orElseThrow().plus(layer * layerBytes),
                layerBytes * shape.numLayers());
    }

    /** One layer of every chunk, through staging buffer {@code b}. */
    private KvCopyArgs staged(DevicePtr layerPointer, int b) {
        return shape.oneLayer(layerPointer, plan.slotTable(), plan.totalTokens(), stage[b],
                (long) plan.totalTokens() * shape.rowBytes());
    }

    /** Queues the transfers of {@code layer}'s rows between every chunk and staging buffer {@code b}. */
    private void transfer(int layer, int b, boolean toDevice, CudaStream stream) {
        long row = shape.rowBytes();
        for (ChunkPlan.Chunk c : plan.chunks()) {
            long bytes = c.tokens() * row;
            for (int plane = 0; plane < shape.planes(); plane++) {
                MemorySegment host = c.host().asSlice(((long) plane * shape.numLayers() + layer) * bytes, bytes);
                DevicePtr device = stage[b].plus(((long) plane * plan.totalTokens() + c.slotOffset()) * row);
                if (toDevice) {
                    api.copyToDevice(device, host, stream);
                } else {
                    api.copyToHost(host, device, stream);
                }
            }
        }
    }

    final void requireOpen() {
        if (closed) {
            throw new IllegalStateException("layerwise copy: closed");
        }
    }

    final void requireLayer(int layer) {
        if (layer < 0 || layer >= shape.numLayers()) {
            throw new IllegalArgumentException("layer: " + layer + " (expected: 0 to " + (shape.numLayers() - 1) + ")");
        }
    }

    /** Frees what the subclass holds, with the context current and the streams idle. */
    void release() {
    }

    @Override
    public final synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (CopyLane.Current _ = lane.enter()) {
            api.synchronize(lane.compute);
            api.synchronize(lane.copy);
            release();
        } finally {
            turn.close();
        }
    }
}
