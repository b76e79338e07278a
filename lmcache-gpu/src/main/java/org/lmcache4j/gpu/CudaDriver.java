package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.lwjgl.cuda.CU;
import org.lwjgl.system.Configuration;

/**
 * The one facade over the CUDA driver API, through LWJGL 3.3.6 {@code lwjgl-cuda}: every downcall of this
 * module and every result-code check is in this file. A failing call throws {@link CudaException} naming the
 * call and the {@code CUresult}; callers see typed handles ({@link DevicePtr}, {@link CudaStream}, ...).
 *
 * <p>Implementation notes. Only the {@code n}-prefixed LWJGL functions are used: they take raw addresses,
 * so FFM segments pass straight through ({@link MemorySegment#address()}) and out-parameters live in a
 * confined {@link Arena} per call. LWJGL's CUDA classes are touched only after {@link CudaAvailability}
 * found {@code libcuda.so.1} ({@link #open()}): without a driver their first use fails and they stay broken.
 */
final class CudaDriver implements DeviceApi {

    private static final int DEVICE_NAME_BYTES = 256;

    private CudaDriver() {
    }

    /**
     * Binds LWJGL to {@code libcuda.so.1} (unless {@code -Dorg.lwjgl.cuda.libname} names another library)
     * and initializes the driver.
     *
     * @throws IllegalStateException when the driver library is absent or LWJGL cannot bind it (one line,
     *                               no LWJGL stack trace)
     * @throws CudaException         when {@code cuInit} fails (e.g. {@code CUDA_ERROR_NO_DEVICE})
     */
    static CudaDriver open() {
        String library = CudaAvailability.driverLibrary()
                .orElseThrow(() -> new IllegalStateException(CudaCopyEngine.noDriverMessage()));
        try {
            if (Configuration.CUDA_LIBRARY_NAME.get() == null) {
                Configuration.CUDA_LIBRARY_NAME.set(library); // LWJGL would look for the unversioned libcuda.so
            }
            check("cuInit", CU.cuInit(0));
        } catch (LinkageError e) {
            // UnsatisfiedLinkError / ExceptionInInitializerError from LWJGL: its trace says nothing an engine can act on.
            throw new IllegalStateException("CUDA driver " + library + " could not be bound through LWJGL "
                    + "(org.lwjgl:lwjgl-cuda:3.3.6 and lwjgl natives-linux on the class path?): " + e);
        }
        return new CudaDriver();
    }

    static void check(String call, int result) {
        if (result != CudaResult.SUCCESS) {
            throw new CudaException(call, result);
        }
    }

    @Override
    public int deviceCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            check("cuDeviceGetCount", CU.ncuDeviceGetCount(count.address()));
            return count.get(JAVA_INT, 0);
        }
    }

    @Override
    public String deviceName(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(DEVICE_NAME_BYTES);
            check("cuDeviceGetName", CU.ncuDeviceGetName(name.address(), DEVICE_NAME_BYTES, device(arena, ordinal)));
            return name.getString(0);
        }
    }

    /** A device attribute ({@code CU_DEVICE_ATTRIBUTE_*}). */
    int attribute(int ordinal, int attribute) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            check("cuDeviceGetAttribute", CU.ncuDeviceGetAttribute(value.address(), attribute, device(arena, ordinal)));
            return value.get(JAVA_INT, 0);
        }
    }

    private static int device(Arena arena, int ordinal) {
        MemorySegment device = arena.allocate(JAVA_INT);
        check("cuDeviceGet", CU.ncuDeviceGet(device.address(), ordinal));
        return device.get(JAVA_INT, 0);
    }

    @Override
    public CudaContext retainPrimaryContext(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment context = arena.allocate(ADDRESS);
            check("cuDevicePrimaryCtxRetain", CU.ncuDevicePrimaryCtxRetain(context.address(), device(arena, ordinal)));
            return new CudaContext(context.get(JAVA_LONG, 0), ordinal);
        }
    }

    @Override
    public void releasePrimaryContext(CudaContext context) {
        try (Arena arena = Arena.ofConfined()) {
            check("cuDevicePrimaryCtxRelease", CU.cuDevicePrimaryCtxRelease(device(arena, context.deviceOrdinal())));
        }
    }

    @Override
    public void pushContext(CudaContext context) {
        check("cuCtxPushCurrent", CU.cuCtxPushCurrent(context.handle()));
    }

    @Override
    public void popContext() {
        try (Arena arena = Arena.ofConfined()) {
            check("cuCtxPopCurrent", CU.ncuCtxPopCurrent(arena.allocate(ADDRESS).address()));
        }
    }

    @Override
    public DevicePtr allocate(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pointer = arena.allocate(JAVA_LONG);
            int result = CU.ncuMemAlloc(pointer.address(), bytes);
            if (result != CudaResult.SUCCESS) {
                throw new CudaException("cuMemAlloc", result, bytes + " bytes");
            }
            return new DevicePtr(pointer.get(JAVA_LONG, 0));
        }
    }

    @Override
    public void free(DevicePtr pointer) {
        check("cuMemFree", CU.cuMemFree(pointer.address()));
    }

    @Override
    public void registerHost(MemorySegment host) {
        int result = CU.ncuMemHostRegister(offHeap(host).address(), host.byteSize(),
                CU.CU_MEMHOSTREGISTER_PORTABLE | CU.CU_MEMHOSTREGISTER_DEVICEMAP);
        if (result != CudaResult.SUCCESS) {
            throw new CudaException("cuMemHostRegister", result, host.byteSize() + " bytes at 0x" + Long.toHexString(host.address()));
        }
    }

    @Override
    public void unregisterHost(MemorySegment host) {
        check("cuMemHostUnregister", CU.ncuMemHostUnregister(offHeap(host).address()));
    }

    @Override
    public DevicePtr mappedPointer(MemorySegment host) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pointer = arena.allocate(JAVA_LONG);
            check("cuMemHostGetDevicePointer", CU.ncuMemHostGetDevicePointer(pointer.address(), offHeap(host).address(), 0));
            return new DevicePtr(pointer.get(JAVA_LONG, 0));
        }
    }

    @Override
    public CudaStream createStream() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stream = arena.allocate(ADDRESS);
            check("cuStreamCreate", CU.ncuStreamCreate(stream.address(), CU.CU_STREAM_DEFAULT));
            return new CudaStream(stream.get(JAVA_LONG, 0));
        }
    }

    @Override
    public void destroyStream(CudaStream stream) {
        check("cuStreamDestroy", CU.cuStreamDestroy(stream.handle()));
    }

    @Override
    public void synchronize(CudaStream stream) {
        check("cuStreamSynchronize", CU.cuStreamSynchronize(stream.handle()));
    }

    @Override
    public CudaEvent createEvent(boolean timing) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(ADDRESS);
            check("cuEventCreate", CU.ncuEventCreate(event.address(), timing ? CU.CU_EVENT_DEFAULT : CU.CU_EVENT_DISABLE_TIMING));
            return new CudaEvent(event.get(JAVA_LONG, 0));
        }
    }

    @Override
    public void destroyEvent(CudaEvent event) {
        check("cuEventDestroy", CU.cuEventDestroy(event.handle()));
    }

    @Override
    public void record(CudaEvent event, CudaStream stream) {
        check("cuEventRecord", CU.cuEventRecord(event.handle(), stream.handle()));
    }

    @Override
    public void waitFor(CudaStream stream, CudaEvent event) {
        check("cuStreamWaitEvent", CU.cuStreamWaitEvent(stream.handle(), event.handle(), 0));
    }

    @Override
    public void synchronize(CudaEvent event) {
        check("cuEventSynchronize", CU.cuEventSynchronize(event.handle()));
    }

    @Override
    public float elapsedMillis(CudaEvent start, CudaEvent end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment millis = arena.allocate(JAVA_FLOAT);
            check("cuEventElapsedTime", CU.ncuEventElapsedTime(millis.address(), start.handle(), end.handle()));
            return millis.get(JAVA_FLOAT, 0);
        }
    }

    @Override
    public void copyToDevice(DevicePtr target, MemorySegment source, CudaStream stream) {
        check("cuMemcpyHtoDAsync", CU.ncuMemcpyHtoDAsync(target.address(), offHeap(source).address(), source.byteSize(),
                stream.handle()));
    }

    @Override
    public void copyToHost(MemorySegment target, DevicePtr source, CudaStream stream) {
        check("cuMemcpyDtoHAsync", CU.ncuMemcpyDtoHAsync(offHeap(target).address(), source.address(), target.byteSize(),
                stream.handle()));
    }

    @Override
    public void copyOnDevice(DevicePtr target, DevicePtr source, long bytes, CudaStream stream) {
        check("cuMemcpyDtoDAsync", CU.cuMemcpyDtoDAsync(target.address(), source.address(), bytes, stream.handle()));
    }

    @Override
    public CudaModule loadModule(MemorySegment image) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment module = arena.allocate(ADDRESS);
            check("cuModuleLoadData", CU.ncuModuleLoadData(module.address(), offHeap(image).address()));
            return new CudaModule(module.get(JAVA_LONG, 0));
        }
    }

    @Override
    public void unloadModule(CudaModule module) {
        check("cuModuleUnload", CU.cuModuleUnload(module.handle()));
    }

    @Override
    public CudaFunction function(CudaModule module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment function = arena.allocate(ADDRESS);
            int result = CU.ncuModuleGetFunction(function.address(), module.handle(), arena.allocateFrom(name).address());
            if (result != CudaResult.SUCCESS) {
                throw new CudaException("cuModuleGetFunction", result, name);
            }
            return new CudaFunction(function.get(JAVA_LONG, 0), name);
        }
    }

    @Override
    public void launch(CudaFunction kernel, int gridX, int gridY, int blockX, MemorySegment parameter, CudaStream stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment parameters = arena.allocate(ADDRESS); // void*[1]: the address of the one by-value argument
            parameters.set(ADDRESS, 0, offHeap(parameter));
            int result = CU.ncuLaunchKernel(kernel.handle(), gridX, gridY, 1, blockX, 1, 1, 0, stream.handle(),
                    parameters.address(), 0L);
            if (result != CudaResult.SUCCESS) {
                throw new CudaException("cuLaunchKernel", result, kernel.name() + " grid " + gridX + "x" + gridY + " block " + blockX);
            }
        }
    }

    /** {@code segment}, which must be off-heap: the driver sees addresses only. */
    private static MemorySegment offHeap(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("memory segment: on the Java heap (expected: off-heap memory the driver can address)");
        }
        return segment;
    }
}
