package org.lmcache4j.gpu;

/** A kernel of a loaded module ({@code CUfunction}) and its entry name. */
record CudaFunction(long handle, String name) {

    @Override
    public String toString() {
        return "CudaFunction[" + name + ", 0x" + Long.toHexString(handle) + "]";
    }
}
