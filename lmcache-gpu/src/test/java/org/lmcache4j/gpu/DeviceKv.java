package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.DeviceKvMemory;

/**
 * An engine's paged KV in device memory for a {@link KvScenario}: one allocation per layer, each tensor
 * starting {@code layerMisalignment} bytes past the allocation, written and read back through the
 * device API on the legacy default stream (so the same fixture serves the emulation and a real GPU).
 */
final class DeviceKv implements AutoCloseable {

    private final DeviceApi api;
    private final KvScenario scenario;
    private final CudaContext context;
    private final DevicePtr[] allocations;
    private final long[] addresses;

    DeviceKv(DeviceApi api, KvScenario scenario, byte[][] content) {
        this.api = api;
        this.scenario = scenario;
        this.context = api.retainPrimaryContext(0);
        int layers = scenario.layout().numLayers();
        this.allocations = new DevicePtr[layers];
        this.addresses = new long[layers];
        api.pushContext(context);
        try {
            for (int l = 0; l < layers; l++) {
                allocations[l] = api.allocate(scenario.layerBytes() + 256);
                addresses[l] = allocations[l].address() + scenario.layerMisalignment();
            }
        } finally {
            api.popContext();
        }
        write(content);
    }

    DeviceKvMemory memory() {
        return scenario.memory(addresses);
    }

    long layerAddress(int layer) {
        return addresses[layer];
    }

    /** Overwrites every layer tensor. */
    void write(byte[][] layers) {
        api.pushContext(context);
        try (Arena arena = Arena.ofConfined()) {
            for (int l = 0; l < layers.length; l++) {
                MemorySegment source = arena.allocate(layers[l].length);
                MemorySegment.copy(layers[l], 0, source, JAVA_BYTE, 0, layers[l].length);
                api.copyToDevice(new DevicePtr(addresses[l]), source, CudaStream.LEGACY_DEFAULT);
            }
            api.synchronize(CudaStream.LEGACY_DEFAULT);
        } finally {
            api.popContext();
        }
    }

    /** Every layer tensor, read back. */
    byte[][] read() {
        byte[][] layers = new byte[addresses.length][];
        api.pushContext(context);
        try (Arena arena = Arena.ofConfined()) {
            for (int l = 0; l < addresses.length; l++) {
                MemorySegment target = arena.allocate(scenario.layerBytes());
                api.copyToHost(target, new DevicePtr(addresses[l]), CudaStream.LEGACY_DEFAULT);
                api.synchronize(CudaStream.LEGACY_DEFAULT);
                layers[l] = target.toArray(JAVA_BYTE);
            }
        } finally {
            api.popContext();
        }
        return layers;
    }

    @Override
    public void close() {
        api.pushContext(context);
        try {
            for (DevicePtr p : allocations) {
                api.free(p);
            }
        } finally {
            api.popContext();
            api.releasePrimaryContext(context);
        }
    }
}
