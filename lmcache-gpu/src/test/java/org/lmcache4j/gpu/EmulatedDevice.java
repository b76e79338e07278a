package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link DeviceApi} on the CPU, strict where CUDA is loose, so the copy engine's whole data path runs
 * and is checked here without a GPU.
 *
 * <ul>
 *   <li>Device memory is host memory; allocations start with garbage and are filled with garbage again
 *       when freed. Every copy and every kernel launch is bounds-checked against live allocations and
 *       registered host memory, and every device call must have a context current.
 *   <li>Kernels are the CPU build of {@code kv_copy.cu} ({@link CpuKernels}), launched with the parameter
 *       bytes as they were at launch time.
 *   <li>Streams ({@link EmulatedStreams}) are queues that run only when the host must wait, in a seeded
 *       random order that only events constrain: a pipeline whose events are insufficient computes wrong
 *       bytes for some seeds.
 *   <li>Copies from pageable host memory read it when queued (the driver stages it); copies into pageable
 *       memory complete before returning; copies from or into registered memory happen when they run.
 * </ul>
 */
@SuppressWarnings("restricted") // device addresses are host addresses here
final class EmulatedDevice implements DeviceApi {

    private final EmulatedStreams streams;
    private final CpuKernels kernels = CpuKernels.get();
    private final Arena arena = Arena.ofShared();
    private final TreeMap<Long, Long> allocations = new TreeMap<>();
    private final TreeMap<Long, Long> registered = new TreeMap<>();
    private final Map<Long, Boolean> modules = new HashMap<>();
    private final ThreadLocal<int[]> contextDepth = ThreadLocal.withInitial(() -> new int[1]);
    private int contextsRetained;
    private long nextHandle = 0x1000;
    private long launches;
    private boolean rejectModules;
    private long failLaunch = -1;
    private long stagedCopies;

    EmulatedDevice(long schedulingSeed) {
        this.streams = new EmulatedStreams(schedulingSeed);
    }

    // ---- test hooks ----

    /** Queues {@code action} on {@code stream} as if the engine ran work there (e.g. writing a layer's KV). */
    synchronized void enqueueHost(CudaStream stream, Runnable action) {
        streams.enqueue(stream, action);
    }

    /** Runs everything queued on every stream. */
    synchronized void settle() {
        streams.settle();
    }

    /** From now on, module loads fail as a driver too old for the PTX would ({@code CUDA_ERROR_UNSUPPORTED_PTX_VERSION}). */
    synchronized void rejectModules() {
        rejectModules = true;
    }

    /** Makes launch number {@code n} (counting from 0 over the device's life) fail with {@code CUDA_ERROR_LAUNCH_FAILED}. */
    synchronized void failLaunch(long n) {
        failLaunch = n;
    }

    /** Kernels launched so far. */
    synchronized long launches() {
        return launches;
    }

    /** Copies between host and staging or table memory so far. */
    synchronized long stagedCopies() {
        return stagedCopies;
    }

    /** Fails unless everything taken was given back: memory, registrations, streams, events, modules, contexts. */
    synchronized void assertNothingHeld() {
        List<String> held = new ArrayList<>();
        if (!allocations.isEmpty()) {
            held.add(allocations.size() + " device allocations");
        }
        if (!registered.isEmpty()) {
            held.add(registered.size() + " host registrations");
        }
        if (streams.liveStreams() > 0) {
            held.add(streams.liveStreams() + " streams");
        }
        if (streams.liveEvents() > 0) {
            held.add(streams.liveEvents() + " events");
        }
        if (!modules.isEmpty()) {
            held.add(modules.size() + " modules");
        }
        if (contextsRetained != 0) {
            held.add(contextsRetained + " context retains");
        }
        if (contextDepth.get()[0] != 0) {
            held.add(contextDepth.get()[0] + " pushed contexts on this thread");
        }
        if (!held.isEmpty()) {
            throw new AssertionError("emulated device still holds " + String.join(", ", held));
        }
    }

    // ---- DeviceApi ----

    @Override
    public synchronized int deviceCount() {
        return 1;
    }

    @Override
    public synchronized String deviceName(int ordinal) {
        return "CPU emulation of kv_copy.cu";
    }

    @Override
    public synchronized CudaContext retainPrimaryContext(int ordinal) {
        if (ordinal != 0) {
            throw new CudaException("cuDeviceGet", 101);
        }
        contextsRetained++;
        return new CudaContext(0xC0DE, ordinal);
    }

    @Override
    public synchronized void releasePrimaryContext(CudaContext context) {
        if (contextsRetained == 0) {
            throw new AssertionError("primary context released more often than retained");
        }
        contextsRetained--;
    }

    @Override
    public synchronized void pushContext(CudaContext context) {
        if (contextsRetained == 0) {
            throw new AssertionError("pushing " + context + " without retaining it");
        }
        contextDepth.get()[0]++;
    }

    @Override
    public synchronized void popContext() {
        if (contextDepth.get()[0] == 0) {
            throw new AssertionError("context popped more often than pushed on " + Thread.currentThread());
        }
        contextDepth.get()[0]--;
    }

    @Override
    public synchronized DevicePtr allocate(long bytes) {
        requireContext("allocate");
        MemorySegment memory = arena.allocate(bytes, 256);
        fill(memory, 0xA5);
        allocations.put(memory.address(), bytes);
        return new DevicePtr(memory.address());
    }

    @Override
    public synchronized void free(DevicePtr pointer) {
        requireContext("free");
        Long bytes = allocations.remove(pointer.address());
        if (bytes == null) {
            throw new AssertionError("freeing " + pointer + ", which is not a live allocation");
        }
        fill(at(pointer.address(), bytes), 0xEE);
    }

    @Override
    public synchronized void registerHost(MemorySegment host) {
        requireContext("registerHost");
        if (inside(registered, host.address(), 1) || registered.containsKey(host.address())) {
            throw new CudaException("cuMemHostRegister", 712);
        }
        registered.put(host.address(), host.byteSize());
    }

    @Override
    public synchronized void unregisterHost(MemorySegment host) {
        requireContext("unregisterHost");
        if (registered.remove(host.address()) == null) {
            throw new CudaException("cuMemHostUnregister", 713);
        }
    }

    @Override
    public synchronized DevicePtr mappedPointer(MemorySegment host) {
        requireContext("mappedPointer");
        if (!inside(registered, host.address(), 1)) {
            throw new CudaException("cuMemHostGetDevicePointer", 1);
        }
        return new DevicePtr(host.address()); // unified addressing: the same address
    }

    @Override
    public synchronized CudaStream createStream() {
        requireContext("createStream");
        return streams.create();
    }

    @Override
    public synchronized void destroyStream(CudaStream stream) {
        requireContext("destroyStream");
        streams.destroy(stream);
    }

    @Override
    public synchronized void synchronize(CudaStream stream) {
        requireContext("synchronize(stream)");
        streams.synchronize(stream);
    }

    @Override
    public synchronized CudaEvent createEvent(boolean timing) {
        requireContext("createEvent");
        return streams.createEvent();
    }

    @Override
    public synchronized void destroyEvent(CudaEvent event) {
        requireContext("destroyEvent");
        streams.destroyEvent(event);
    }

    @Override
    public synchronized void record(CudaEvent event, CudaStream stream) {
        requireContext("record");
        streams.record(event, stream);
    }

    @Override
    public synchronized void waitFor(CudaStream stream, CudaEvent event) {
        requireContext("waitFor");
        streams.waitFor(stream, event);
    }

    @Override
    public synchronized void synchronize(CudaEvent event) {
        requireContext("synchronize(event)");
        streams.synchronize(event);
    }

    @Override
    public synchronized float elapsedMillis(CudaEvent start, CudaEvent end) {
        return 1;
    }

    @Override
    public synchronized void copyToDevice(DevicePtr target, MemorySegment source, CudaStream stream) {
        requireContext("copyToDevice");
        long bytes = source.byteSize();
        requireDevice(target.address(), bytes, "copyToDevice target");
        MemorySegment to = at(target.address(), bytes);
        stagedCopies++;
        if (inside(registered, source.address(), bytes)) {
            streams.enqueue(stream, () -> MemorySegment.copy(source, 0, to, 0, bytes));
        } else {
            byte[] staged = source.toArray(JAVA_BYTE); // pageable: the driver reads it before returning
            streams.enqueue(stream, () -> MemorySegment.copy(staged, 0, to, JAVA_BYTE, 0, staged.length));
        }
    }

    @Override
    public synchronized void copyToHost(MemorySegment target, DevicePtr source, CudaStream stream) {
        requireContext("copyToHost");
        long bytes = target.byteSize();
        requireDevice(source.address(), bytes, "copyToHost source");
        MemorySegment from = at(source.address(), bytes);
        stagedCopies++;
        boolean[] done = new boolean[1];
        streams.enqueue(stream, () -> {
            MemorySegment.copy(from, 0, target, 0, bytes);
            done[0] = true;
        });
        if (!inside(registered, target.address(), bytes)) {
            streams.runUntil(() -> done[0], "copying into pageable memory"); // pageable: returns when done
        }
    }

    @Override
    public synchronized void copyOnDevice(DevicePtr target, DevicePtr source, long bytes, CudaStream stream) {
        requireContext("copyOnDevice");
        requireDevice(target.address(), bytes, "copyOnDevice target");
        requireDevice(source.address(), bytes, "copyOnDevice source");
        MemorySegment to = at(target.address(), bytes);
        MemorySegment from = at(source.address(), bytes);
        streams.enqueue(stream, () -> MemorySegment.copy(from, 0, to, 0, bytes));
    }

    @Override
    public synchronized CudaModule loadModule(MemorySegment image) {
        requireContext("loadModule");
        if (rejectModules) {
            throw new CudaException("cuModuleLoadData", 222);
        }
        String text = image.getString(0, StandardCharsets.UTF_8);
        if (!text.startsWith("// lmcache4j kv_copy.cu sha256 ") || !text.contains(".entry lmc_kv_gather(")
                || image.get(JAVA_BYTE, image.byteSize() - 1) != 0) {
            throw new CudaException("cuModuleLoadData", 218); // CUDA_ERROR_INVALID_PTX
        }
        long handle = nextHandle++;
        modules.put(handle, true);
        return new CudaModule(handle);
    }

    @Override
    public synchronized void unloadModule(CudaModule module) {
        requireContext("unloadModule");
        if (modules.remove(module.handle()) == null) {
            throw new CudaException("cuModuleUnload", 400);
        }
    }

    @Override
    public synchronized CudaFunction function(CudaModule module, String name) {
        requireContext("function");
        if (!modules.containsKey(module.handle()) || !(name.equals(KvCopyKernels.GATHER) || name.equals(KvCopyKernels.SCATTER))) {
            throw new CudaException("cuModuleGetFunction", 500, name);
        }
        return new CudaFunction(nextHandle++, name);
    }

    @Override
    public synchronized void launch(CudaFunction kernel, int gridX, int gridY, int blockX, MemorySegment parameter,
                                    CudaStream stream) {
        requireContext("launch");
        if (gridX <= 0 || gridY <= 0 || gridY > KvCopyArgs.MAX_GRID_Y || blockX <= 0 || blockX > 1024) {
            throw new CudaException("cuLaunchKernel", 1, "grid " + gridX + "x" + gridY + " block " + blockX);
        }
        if (launches == failLaunch) {
            launches++;
            throw new CudaException("cuLaunchKernel", 719, kernel.name());
        }
        byte[] snapshot = parameter.toArray(JAVA_BYTE); // the driver copies the parameters at launch
        checkLaunch(MemorySegment.ofArray(snapshot));
        boolean gather = kernel.name().equals(KvCopyKernels.GATHER);
        launches++;
        streams.enqueue(stream, () -> {
            try (Arena call = Arena.ofConfined()) {
                MemorySegment p = call.allocate(KvCopyArgs.LAYOUT);
                MemorySegment.copy(snapshot, 0, p, JAVA_BYTE, 0, snapshot.length);
                kernels.launch(gather, p, gridX, gridY, blockX);
            }
        });
    }

    /** Bounds-checks a launch's tables and every chunk row range it will touch. */
    private void checkLaunch(MemorySegment args) {
        long layerTable = args.get(JAVA_LONG_UNALIGNED, 0);
        long slots = args.get(JAVA_LONG_UNALIGNED, 8);
        long chunk = args.get(JAVA_LONG_UNALIGNED, 16);
        long planeStride = args.get(JAVA_LONG_UNALIGNED, 24);
        long layerStride = args.get(JAVA_LONG_UNALIGNED, 32);
        int layers = args.get(JAVA_INT_UNALIGNED, 40);
        int tokens = args.get(JAVA_INT_UNALIGNED, 44);
        int planes = args.get(JAVA_INT_UNALIGNED, 48);
        int rowBytes = args.get(JAVA_INT_UNALIGNED, 64);
        requireDevice(layerTable, 8L * layers, "launch layer table");
        requireDevice(slots, 4L * tokens, "launch slot table");
        for (int plane = 0; plane < planes; plane++) {
            for (int layer = 0; layer < layers; layer++) {
                requireDevice(chunk + plane * planeStride + layer * layerStride, (long) tokens * rowBytes,
                        "launch chunk rows of plane " + plane + " layer " + layer);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) { // the engine closes the API it opened; the test may close it too
            arena.close();
        }
    }

    private void requireContext(String call) {
        if (contextDepth.get()[0] == 0) {
            throw new AssertionError(call + " without a current context on " + Thread.currentThread());
        }
    }

    /** Fails unless {@code [address, address + bytes)} is inside a live allocation or registered host memory. */
    private void requireDevice(long address, long bytes, String what) {
        if (!inside(allocations, address, bytes) && !inside(registered, address, bytes)) {
            throw new AssertionError(what + ": " + bytes + " bytes at 0x" + Long.toHexString(address)
                    + " outside every live allocation and registered host range");
        }
    }

    private static boolean inside(TreeMap<Long, Long> ranges, long address, long bytes) {
        Map.Entry<Long, Long> e = ranges.floorEntry(address);
        return e != null && address + bytes <= e.getKey() + e.getValue();
    }

    private static MemorySegment at(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    private static void fill(MemorySegment memory, int value) {
        memory.fill((byte) value);
    }
}
