package org.lmcache4j.gpu;

/** A loaded CUDA module (`CUmodule`). */
record CudaModule(long handle) {

    @Override
    public String toString() {
        return "CudaModule[0x" + Long.toHexString(handle) + "]";
    }
}
