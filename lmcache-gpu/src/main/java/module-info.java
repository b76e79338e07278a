/**
 * The CUDA side of lmcache4j: copies between device-resident engine KV and the cache with CUDA kernels
 * ({@link org.lmcache4j.gpu.CudaCopyEngine}, a {@link org.lmcache4j.api.spi.DeviceCopyEngine}). Loads lazily
 * and only after {@link org.lmcache4j.gpu.CudaAvailability} has found a driver; without one the rest of the
 * library works as before.
 */
module org.lmcache4j.gpu {
    requires transitive org.lmcache4j.api;
    requires org.lmcache4j.nativeio;
    requires org.slf4j;
    requires org.lwjgl.cuda;

    exports org.lmcache4j.gpu;

    provides org.lmcache4j.api.spi.DeviceCopyEngine with org.lmcache4j.gpu.CudaCopyEngine;
}
