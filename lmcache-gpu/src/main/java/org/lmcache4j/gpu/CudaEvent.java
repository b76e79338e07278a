package org.lmcache4j.gpu;

/** A CUDA event (`CUevent`). */
record CudaEvent(long handle) {

    @Override
    public String toString() {
        return "CudaEvent[0x" + Long.toHexString(handle) + "]";
    }
}
