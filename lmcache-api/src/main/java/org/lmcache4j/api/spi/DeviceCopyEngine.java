package org.lmcache4j.api.spi;

import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.DeviceKvMemory;

/**
 * Gathers and scatters KV between device-resident engine memory and host chunk buffers (the GPU module
 * implements it with CUDA kernels). Found with {@link java.util.ServiceLoader}; used only when an
 * engine passes {@link DeviceKvMemory}.
 */
public interface DeviceCopyEngine extends AutoCloseable {

    /** True when this engine can copy to and from {@code kv} on this machine. */
    boolean supports(DeviceKvMemory kv);

    /**
     * Copies tokens {@code [from, to)} at {@code slotMapping} out of {@code kv} into {@code chunk}, laid out
     * {@code [K|V][layer][token][kvDim]}; tokens with a negative slot are left as they are in {@code chunk}.
     */
    void gather(DeviceKvMemory kv, int[] slotMapping, int from, int to, MemorySegment chunk);

    /** The reverse of {@link #gather}: copies {@code chunk} into {@code kv}; negative slots are skipped. */
    void scatter(MemorySegment chunk, DeviceKvMemory kv, int[] slotMapping, int from, int to);

    @Override
    void close();
}
