package org.lmcache4j.gpu;

/** A device's primary context ({@code CUcontext}), retained by this module. */
record CudaContext(long handle, int deviceOrdinal) {

    @Override
    public String toString() {
        return "CudaContext[device " + deviceOrdinal + ", 0x" + Long.toHexString(handle) + "]";
    }
}
