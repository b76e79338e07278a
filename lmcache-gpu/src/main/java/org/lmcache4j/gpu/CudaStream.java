package org.lmcache4j.gpu;

/** A CUDA stream ({@code CUstream}); handle 0 is the legacy default stream. */
record CudaStream(long handle) {

    /** The legacy default stream (stream 0), which blocking streams synchronize with. */
    static final CudaStream LEGACY_DEFAULT = new CudaStream(0);

    @Override
    public String toString() {
        return "CudaStream[0x" + Long.toHexString(handle) + "]";
    }
}
