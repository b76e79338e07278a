package org.lmcache4j.gpu;

import java.lang.foreign.MemorySegment;

/**
 * The device operations the copy engine uses, in CUDA driver terms. {@link CudaDriver} implements them
 * over the real driver; the tests implement them over the CPU build of the kernels (device memory is host
 * memory, every operation runs at once), which runs the engine's whole data path without a GPU.
 *
 * <p>Copies and launches are asynchronous in the stream they are queued on; every method that takes a
 * device address expects the owning device's context to be current on the calling thread.
 */
interface DeviceApi extends AutoCloseable {

    /** Number of devices. */
    int deviceCount();

    /** The device's name, e.g. {@code NVIDIA H100 80GB HBM3}. */
    String deviceName(int ordinal);

    /** Retains {@code ordinal}'s primary context (the one the CUDA runtime, and so most engines, use). */
    CudaContext retainPrimaryContext(int ordinal);

    /** Releases a context from {@link #retainPrimaryContext}. */
    void releasePrimaryContext(CudaContext context);

    /** Makes {@code context} current on this thread, above whatever was current. */
    void pushContext(CudaContext context);

    /** Restores the context that was current before the matching {@link #pushContext}. */
    void popContext();

    /** Allocates {@code bytes} of device memory. */
    DevicePtr allocate(long bytes);

    /** Frees memory from {@link #allocate}. */
    void free(DevicePtr pointer);

    /** Page-locks {@code host} and maps it for every device (portable, device-mapped). */
    void registerHost(MemorySegment host);

    /** Undoes {@link #registerHost}. */
    void unregisterHost(MemorySegment host);

    /** The address the current context's device uses for registered host memory starting at {@code host}. */
    DevicePtr mappedPointer(MemorySegment host);

    /** A stream that synchronizes with the legacy default stream, as the runtime's default streams do. */
    CudaStream createStream();

    void destroyStream(CudaStream stream);

    /** Blocks until everything queued on {@code stream} has finished. */
    void synchronize(CudaStream stream);

    /** An event; {@code timing} false makes it cheaper (no timestamp). */
    CudaEvent createEvent(boolean timing);

    void destroyEvent(CudaEvent event);

    /** Records {@code event} at the current end of {@code stream}. */
    void record(CudaEvent event, CudaStream stream);

    /** Makes future work on {@code stream} wait for {@code event}'s last record, without blocking this thread. */
    void waitFor(CudaStream stream, CudaEvent event);

    /** Blocks until {@code event}'s last record has completed. */
    void synchronize(CudaEvent event);

    /** Milliseconds between two completed events created with timing. */
    float elapsedMillis(CudaEvent start, CudaEvent end);

    /** Queues a copy of {@code source} into device memory at {@code target}. */
    void copyToDevice(DevicePtr target, MemorySegment source, CudaStream stream);

    /** Queues a copy of {@code target.byteSize()} bytes at {@code source} into host memory {@code target}. */
    void copyToHost(MemorySegment target, DevicePtr source, CudaStream stream);

    /** Queues a device-to-device copy. */
    void copyOnDevice(DevicePtr target, DevicePtr source, long bytes, CudaStream stream);

    /** Loads a module from a PTX or cubin image (PTX text must end with a NUL byte). */
    CudaModule loadModule(MemorySegment image);

    void unloadModule(CudaModule module);

    /** The kernel named {@code name} in {@code module}. */
    CudaFunction function(CudaModule module, String name);

    /**
     * Queues {@code kernel} on a {@code gridX x gridY} grid of {@code blockX}-thread blocks with one
     * by-value parameter, the bytes of {@code parameter} (read before this method returns).
     */
    void launch(CudaFunction kernel, int gridX, int gridY, int blockX, MemorySegment parameter, CudaStream stream);

    /** Releases what the API holds; the default does nothing. */
    @Override
    default void close() {
    }
}
