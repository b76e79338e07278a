package org.lmcache4j.gpu;

/** A device address ({@code CUdeviceptr}), or a pinned host address as the device sees it. */
record DevicePtr(long address) {

    /** The address {@code bytes} further on. */
    DevicePtr plus(long bytes) {
        return new DevicePtr(address + bytes);
    }

    @Override
    public String toString() {
        return "DevicePtr[0x" + Long.toHexString(address) + "]";
    }
}
