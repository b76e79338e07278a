package org.lmcache4j.gpu;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.spi.ChunkCopy;
import org.lmcache4j.api.spi.DeviceCopyEngine;
import org.lmcache4j.api.spi.HostRegistration;
import org.lmcache4j.api.spi.LayerwiseRetrieve;
import org.lmcache4j.api.spi.LayerwiseStore;

/**
 * A device copy engine the connector finds by {@link java.util.ServiceLoader} in this module's tests: the real
 * {@link CudaCopyEngine} over the {@link EmulatedDevice} a test installs with {@link #install} (none: it supports
 * nothing). Lets a test drive a whole connector, opened as engines open it, on the emulated device.
 */
public final class EmulatedEngineProvider implements DeviceCopyEngine {

    private static volatile EmulatedDevice installed;

    private final EmulatedDevice device = installed;
    private final CudaCopyEngine delegate = device == null ? null : new CudaCopyEngine(() -> device, true);

    /** For {@link java.util.ServiceLoader}: copies through the device installed now, if any. */
    public EmulatedEngineProvider() {
    }

    /** The device the next connectors opened will copy through; null for none. */
    static void install(EmulatedDevice device) {
        installed = device;
    }

    @Override
    public boolean supports(DeviceKvMemory kv) {
        return delegate != null && delegate.supports(kv);
    }

    @Override
    public String unsupportedReason(DeviceKvMemory kv) {
        return delegate == null ? "emulated device: none installed" : delegate.unsupportedReason(kv);
    }

    @Override
    public void gather(DeviceKvMemory kv, int[] slotMapping, int from, int to, MemorySegment chunk) {
        delegate.gather(kv, slotMapping, from, to, chunk);
    }

    @Override
    public void scatter(MemorySegment chunk, DeviceKvMemory kv, int[] slotMapping, int from, int to) {
        delegate.scatter(chunk, kv, slotMapping, from, to);
    }

    @Override
    public void gather(DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> chunks) {
        delegate.gather(kv, slotMapping, chunks);
    }

    @Override
    public void scatter(List<ChunkCopy> chunks, DeviceKvMemory kv, int[] slotMapping) {
        delegate.scatter(chunks, kv, slotMapping);
    }

    @Override
    public boolean registersHost() {
        return delegate != null && delegate.registersHost();
    }

    @Override
    public HostRegistration registerHost(MemorySegment host) {
        return delegate.registerHost(host);
    }

    @Override
    public LayerwiseStore storeLayerwise(DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> chunks, long engineStream) {
        return delegate.storeLayerwise(kv, slotMapping, chunks, engineStream);
    }

    @Override
    public LayerwiseRetrieve retrieveLayerwise(List<ChunkCopy> chunks, DeviceKvMemory kv, int[] slotMapping, long engineStream) {
        return delegate.retrieveLayerwise(chunks, kv, slotMapping, engineStream);
    }

    @Override
    public void close() {
        if (delegate != null) {
            delegate.close();
        }
    }
}
