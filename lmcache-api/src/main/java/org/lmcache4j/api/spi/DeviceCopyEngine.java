package org.lmcache4j.api.spi;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.lmcache4j.api.DeviceKvMemory;

/**
 * Gathers and scatters KV between device-resident engine memory and host chunk buffers (the GPU module
 * implements it with CUDA kernels). Found with {@link java.util.ServiceLoader}; used only when an
 * engine passes {@link DeviceKvMemory}.
 */
public interface DeviceCopyEngine extends AutoCloseable {

    /** True when this engine can copy to and from {@code kv} on this machine. */
    boolean supports(DeviceKvMemory kv);

    /** Why {@code kv} cannot be copied on this machine, in one sentence; empty when {@link #supports} is true. */
    default String unsupportedReason(DeviceKvMemory kv) {
        return supports(kv) ? "" : getClass().getName() + " cannot copy " + kv;
    }

    /**
     * Copies tokens {@code [from, to)} at {@code slotMapping} out of {@code kv} into {@code chunk}, laid out
     * {@code [K|V][layer][token][kvDim]}; tokens with a negative slot are left as they are in {@code chunk}.
     */
    void gather(DeviceKvMemory kv, int[] slotMapping, int from, int to, MemorySegment chunk);

    /** The reverse of {@link #gather}: copies {@code chunk} into {@code kv}; negative slots are skipped. */
    void scatter(MemorySegment chunk, DeviceKvMemory kv, int[] slotMapping, int from, int to);

    /**
     * Gathers every chunk of a batch; returns when all are complete. An engine may pipeline them (one
     * chunk's transfer overlapping the next one's gather); the default gathers one after another.
     */
    default void gather(DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> chunks) {
        for (ChunkCopy c : chunks) {
            gather(kv, slotMapping, c.from(), c.to(), c.chunk());
        }
    }

    /** Scatters every chunk of a batch; returns when all are in device memory. */
    default void scatter(List<ChunkCopy> chunks, DeviceKvMemory kv, int[] slotMapping) {
        for (ChunkCopy c : chunks) {
            scatter(c.chunk(), kv, slotMapping, c.from(), c.to());
        }
    }

    /**
     * Makes host memory (a cpu-tier slab) directly reachable by devices, so chunk buffers inside it are
     * copied in place and asynchronously. The default registers nothing.
     */
    default HostRegistration registerHost(MemorySegment host) {
        return HostRegistration.none(host);
    }

    /**
     * True when {@link #registerHost} makes memory device-reachable on this machine (a driver and a device are
     * there): a connector's cpu tier then registers every slab it maps, as it maps it, and unregisters it before
     * unmapping it. Asked once, when the connector opens; the default is false.
     */
    default boolean registersHost() {
        return false;
    }

    /**
     * Starts a store that copies one layer at a time as the engine computes it ({@link LayerwiseStore});
     * {@code engineStream} is the engine's CUDA stream ({@code CUstream}; 0 = the legacy default stream).
     *
     * @throws UnsupportedOperationException when this engine has no layerwise path
     */
    default LayerwiseStore storeLayerwise(DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> chunks, long engineStream) {
        throw new UnsupportedOperationException(getClass().getName() + " has no layerwise store");
    }

    /**
     * Starts a retrieve that loads every layer in order, each announced by its own event
     * ({@link LayerwiseRetrieve}); the chunk buffers must stay unchanged until it is closed.
     *
     * @throws UnsupportedOperationException when this engine has no layerwise path
     */
    default LayerwiseRetrieve retrieveLayerwise(List<ChunkCopy> chunks, DeviceKvMemory kv, int[] slotMapping, long engineStream) {
        throw new UnsupportedOperationException(getClass().getName() + " has no layerwise retrieve");
    }

    @Override
    void close();
}
