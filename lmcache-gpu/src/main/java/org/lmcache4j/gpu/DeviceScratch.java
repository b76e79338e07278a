package org.lmcache4j.gpu;

/**
 * A device allocation that grows on demand. Growing frees the old memory, so callers grow it only while no
 * queued work uses it (at the start of a copy, with the device's turn held and the previous copy finished).
 */
final class DeviceScratch {

    private final DeviceApi api;
    private DevicePtr pointer;
    private long capacityBytes;

    DeviceScratch(DeviceApi api) {
        this.api = api;
    }

    /** At least {@code bytes} of device memory (its old content is lost when it grows). */
    DevicePtr ensure(long bytes) {
        if (bytes > capacityBytes) {
            release();
            long capacity = Math.max(bytes, capacityBytes + capacityBytes / 2); // amortize a slowly growing demand
            pointer = api.allocate(capacity);
            capacityBytes = capacity;
        }
        return pointer;
    }

    long capacityBytes() {
        return capacityBytes;
    }

    /** Frees the memory; {@link #ensure} allocates again. */
    void release() {
        if (pointer != null) {
            DevicePtr p = pointer;
            pointer = null;
            capacityBytes = 0;
            api.free(p);
        }
    }
}
