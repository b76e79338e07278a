package org.lmcache4j.gpu;

import java.lang.foreign.MemorySegment;

/**
 * Gathers or scatters the chunks of a {@link ChunkPlan}, whole chunks (every layer, K and V) per launch.
 *
 * <p>A chunk in registered host memory is read or written in place by the kernel (zero-copy). The others go
 * through two device staging buffers on two streams: while chunk i's bytes cross PCIe on the copy stream,
 * chunk i+1's kernel runs on the compute stream. Events order the streams: {@code filled[b]} (staging b is
 * ready for the other stream) and {@code drained[b]} (the other stream is done with it, so chunk i+2 may
 * reuse it). Both methods return when every chunk is done.
 */
final class ChunkPipeline {

    private ChunkPipeline() {
    }

    /** Engine KV -> chunk buffers. A chunk with skipped tokens is first uploaded, so their rows keep its bytes. */
    static void gather(CopyLane lane, KvShape shape, ChunkPlan plan) {
        DeviceApi api = lane.api;
        DevicePtr[] stage = staging(lane, plan.largestStagedBytes());
        int staged = 0;
        for (ChunkPlan.Chunk c : plan.chunks()) {
            if (c.mapped().isPresent()) {
                lane.launch(shape.wholeChunk(plan.layerTable(), plan.slots(c), c.mapped().get(), c.tokens()), true, lane.compute);
                continue;
            }
            int b = staged % 2;
            if (staged++ >= 2) {
                api.waitFor(lane.compute, lane.drained[b]);
            }
            if (c.skips()) {
                api.copyToDevice(stage[b], c.host(), lane.compute);
            }
            lane.launch(shape.wholeChunk(plan.layerTable(), plan.slots(c), stage[b], c.tokens()), true, lane.compute);
            api.record(lane.filled[b], lane.compute);
            api.waitFor(lane.copy, lane.filled[b]);
            api.copyToHost(c.host(), stage[b], lane.copy);
            api.record(lane.drained[b], lane.copy);
        }
        api.synchronize(lane.compute);
        api.synchronize(lane.copy);
    }

    /** Chunk buffers -> engine KV; tokens with negative slots are not written. */
    static void scatter(CopyLane lane, KvShape shape, ChunkPlan plan) {
        DeviceApi api = lane.api;
        DevicePtr[] stage = staging(lane, plan.largestStagedBytes());
        int staged = 0;
        for (ChunkPlan.Chunk c : plan.chunks()) {
            if (c.mapped().isPresent()) {
                lane.launch(shape.wholeChunk(plan.layerTable(), plan.slots(c), c.mapped().get(), c.tokens()), false, lane.compute);
                continue;
            }
            int b = staged % 2;
            if (staged++ >= 2) {
                api.waitFor(lane.copy, lane.drained[b]);
            }
            MemorySegment host = c.host();
            api.copyToDevice(stage[b], host, lane.copy);
            api.record(lane.filled[b], lane.copy);
            api.waitFor(lane.compute, lane.filled[b]);
            lane.launch(shape.wholeChunk(plan.layerTable(), plan.slots(c), stage[b], c.tokens()), false, lane.compute);
            api.record(lane.drained[b], lane.compute);
        }
        api.synchronize(lane.copy);
        api.synchronize(lane.compute);
    }

    /** Both staging buffers grown to {@code bytes}; none when nothing is staged. */
    static DevicePtr[] staging(CopyLane lane, long bytes) {
        if (bytes == 0) {
            return new DevicePtr[0];
        }
        return new DevicePtr[] {lane.staging[0].ensure(bytes), lane.staging[1].ensure(bytes)};
    }
}
