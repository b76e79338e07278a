package org.lmcache4j.storage.copy;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.ChunkCopy;
import org.lmcache4j.api.spi.DeviceCopyEngine;
import org.lmcache4j.api.spi.LayerwiseRetrieve;
import org.lmcache4j.api.spi.LayerwiseStore;

/**
 * A {@link DeviceCopyEngine} for the storage tests (found by ServiceLoader through the test resources):
 * "device" {@value #DEVICE} is host memory, so layer addresses are host addresses laid out as the device
 * formats say. Lets the tests run the connector's device-KV path without a GPU.
 */
@SuppressWarnings("restricted") // layer addresses are host addresses here
public final class HostBackedDeviceCopyEngine implements DeviceCopyEngine {

    /** The only device ordinal this engine handles. */
    public static final int DEVICE = 7;

    public HostBackedDeviceCopyEngine() {
    }

    @Override
    public boolean supports(DeviceKvMemory kv) {
        return kv.deviceOrdinal() == DEVICE;
    }

    @Override
    public String unsupportedReason(DeviceKvMemory kv) {
        return supports(kv) ? "" : "test engine: device " + kv.deviceOrdinal() + " is not host-backed (only device " + DEVICE
                + "; real devices need lmcache-gpu)";
    }

    @Override
    public void gather(DeviceKvMemory kv, int[] slotMapping, int from, int to, MemorySegment chunk) {
        copy(kv, slotMapping, from, to, chunk, true);
    }

    @Override
    public void scatter(MemorySegment chunk, DeviceKvMemory kv, int[] slotMapping, int from, int to) {
        copy(kv, slotMapping, from, to, chunk, false);
    }

    /** Byte offset of {@code slot}'s row of {@code plane} in one layer's tensor. */
    public static long rowOffset(DeviceKvMemory kv, int plane, int slot) {
        int block = slot / kv.blockSize();
        int offset = slot % kv.blockSize();
        long row = switch (kv.format()) {
            case VLLM -> ((long) plane * kv.numBlocks() + block) * kv.blockSize() + offset;
            case FLASH_INFER -> ((long) block * 2 + plane) * kv.blockSize() + offset;
            case MLA -> slot;
        };
        return row * kv.layout().rowBytes();
    }

    public static MemorySegment layer(DeviceKvMemory kv, int layer) {
        return MemorySegment.ofAddress(kv.layerAddress(layer))
                .reinterpret((long) kv.layout().planes() * kv.numSlots() * kv.layout().rowBytes());
    }

    /** Layer by layer, at once: a host-backed "device" has no streams; each layer is copied when announced. */
    @Override
    public LayerwiseStore storeLayerwise(DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> chunks, long engineStream) {
        streams.add(engineStream);
        return new LayerwiseStore() {
            private int queued;

            @Override
            public void layerComputed(int layer) {
                for (ChunkCopy c : chunks) {
                    copy(kv, slotMapping, c.from(), c.to(), c.chunk(), true, layer);
                }
                queued++;
            }

            @Override
            public int layersQueued() {
                return queued;
            }

            @Override
            public void close() {
            }
        };
    }

    /** Every layer at once (the device's copies are queued in layer order; here they are simply done). */
    @Override
    public LayerwiseRetrieve retrieveLayerwise(List<ChunkCopy> chunks, DeviceKvMemory kv, int[] slotMapping, long engineStream) {
        streams.add(engineStream);
        for (ChunkCopy c : chunks) {
            copy(kv, slotMapping, c.from(), c.to(), c.chunk(), false);
        }
        return new LayerwiseRetrieve() {
            @Override
            public void awaitLayer(int layer) {
            }

            @Override
            public void close() {
            }
        };
    }

    /** The engine streams the layerwise calls were given, in order (tests check the connector passes the memory's). */
    public final List<Long> streams = new java.util.concurrent.CopyOnWriteArrayList<>();

    private static void copy(DeviceKvMemory kv, int[] slots, int from, int to, MemorySegment chunk, boolean gather) {
        copy(kv, slots, from, to, chunk, gather, -1);
    }

    /** Copies every layer, or only {@code onlyLayer} when it is not negative. */
    private static void copy(DeviceKvMemory kv, int[] slots, int from, int to, MemorySegment chunk, boolean gather, int onlyLayer) {
        KvLayout layout = kv.layout();
        int row = layout.rowBytes();
        for (int plane = 0; plane < layout.planes(); plane++) {
            for (int l = 0; l < layout.numLayers(); l++) {
                if (onlyLayer >= 0 && l != onlyLayer) {
                    continue;
                }
                MemorySegment tensor = layer(kv, l);
                for (int t = from; t < to; t++) {
                    if (slots[t] < 0) {
                        continue;
                    }
                    long inChunk = ((long) (plane * layout.numLayers() + l) * (to - from) + (t - from)) * row;
                    long inEngine = rowOffset(kv, plane, slots[t]);
                    if (gather) {
                        MemorySegment.copy(tensor, inEngine, chunk, inChunk, row);
                    } else {
                        MemorySegment.copy(chunk, inChunk, tensor, inEngine, row);
                    }
                }
            }
        }
    }

    @Override
    public void close() {
    }
}
