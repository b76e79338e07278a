/**
 * The CUDA side of lmcache4j: copies between device-resident engine KV and the cache. Loads lazily and
 * only after {@link org.lmcache4j.gpu.CudaAvailability} has found a driver; without one the rest of the
 * library works as before.
 */
module org.lmcache4j.gpu {
    requires org.lmcache4j.api;
    requires org.lmcache4j.nativeio;
    requires org.slf4j;

    exports org.lmcache4j.gpu;
}
