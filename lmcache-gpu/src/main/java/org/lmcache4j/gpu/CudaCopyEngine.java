package org.lmcache4j.gpu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.spi.ChunkCopy;
import org.lmcache4j.api.spi.DeviceCopyEngine;
import org.lmcache4j.api.spi.HostRegistration;
import org.lmcache4j.api.spi.LayerwiseRetrieve;
import org.lmcache4j.api.spi.LayerwiseStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CUDA copy engine: gathers device-resident paged engine KV into host chunk buffers and scatters it
 * back with the kernels of {@code kv_copy.cu}, all layers and both planes per launch.
 *
 * <p>Chunk buffers inside host memory registered with {@link #registerHost} are written and read by the
 * kernels in place (zero-copy); others go through device staging buffers with transfers on a second stream,
 * double-buffered so that one chunk's transfer overlaps the next chunk's kernel ({@link ChunkPipeline}).
 * Layerwise stores and retrieves ({@link #storeLayerwise}, {@link #retrieveLayerwise}) let an engine compute
 * one layer while another is copied. Copies on one device take turns; each returns when its bytes are in
 * place (layerwise ones at {@code close()}).
 *
 * <p>Nothing CUDA is loaded before the first copy or {@link #supports} call, and only when
 * {@link CudaAvailability} found the driver. Without one, {@link #supports} is false and copies fail with
 * one {@link IllegalStateException} naming the missing library; no LWJGL error leaks out. Engine KV must live
 * in the device's primary context (the CUDA runtime's), and the engine's writes to it must be complete (on
 * the legacy default stream, or synchronized) before a store; layerwise copies take the engine's stream.
 */
public final class CudaCopyEngine implements DeviceCopyEngine {

    private static final Logger LOG = LoggerFactory.getLogger(CudaCopyEngine.class);
    private static final long CLOSE_WAIT_SECONDS = 10;

    private final DeviceAccess access;
    private final boolean zeroCopy;
    private final HostRegistry registry = new HostRegistry();
    private final Map<Integer, CopyLane> lanes = new HashMap<>();
    private boolean closed;

    /** For {@link java.util.ServiceLoader}: copies through the CUDA driver, opened on first use. */
    public CudaCopyEngine() {
        this(CudaDriver::open, true);
    }

    /**
     * @param opener   opens the device API (the driver, or the tests' CPU emulation)
     * @param zeroCopy whether chunk buffers in registered host memory are accessed in place (else always staged)
     */
    CudaCopyEngine(Supplier<DeviceApi> opener, boolean zeroCopy) {
        this.access = new DeviceAccess(opener);
        this.zeroCopy = zeroCopy;
    }

    /** The message of every GPU use on a machine without the driver library. */
    static String noDriverMessage() {
        return "CUDA driver " + CudaAvailability.DRIVER_LIBRARY + " not found: " + CudaAvailability.unavailableReason();
    }

    @Override
    public boolean supports(DeviceKvMemory kv) {
        return unsupportedReason(kv).isEmpty();
    }

    /** True when the driver loads and reports a device: the cpu tier's slabs are then worth registering. */
    @Override
    public boolean registersHost() {
        if (!access.failure().isEmpty()) {
            return false;
        }
        try {
            return access.require().deviceCount() > 0;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Why {@code kv} cannot be copied on this machine, in one sentence; empty when {@link #supports} is true. */
    @Override
    public String unsupportedReason(DeviceKvMemory kv) {
        if (kv == null) {
            return "device KV: null";
        }
        String failure = access.failure();
        if (!failure.isEmpty()) {
            return failure;
        }
        synchronized (this) {
            if (closed) {
                return "CUDA copy engine: closed";
            }
        }
        int ordinal = kv.deviceOrdinal();
        try {
            int devices = access.require().deviceCount();
            if (ordinal >= devices) {
                return "device " + ordinal + ": not present (this machine has " + devices + " CUDA devices)";
            }
            if ((long) kv.layout().planes() * kv.layout().numLayers() > KvCopyArgs.MAX_GRID_Y) {
                return "layers: " + kv.layout().numLayers() + " (expected: at most " + KvCopyArgs.MAX_GRID_Y / kv.layout().planes()
                        + ", one grid row per plane and layer)";
            }
            lane(ordinal);
            return "";
        } catch (CudaException e) {
            return "device " + ordinal + " cannot run the copy kernels: " + e.getMessage() + hint(e);
        }
    }

    private static String hint(CudaException e) {
        return switch (e.resultName()) {
            case "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "CUDA_ERROR_INVALID_PTX", "CUDA_ERROR_NO_BINARY_FOR_GPU" ->
                    " (kv_copy.ptx is PTX 9.0 for sm_80 from CUDA 13: it needs an NVIDIA driver of the R580 line or newer"
                            + " and a GPU of compute capability 8.0 or higher)";
            default -> "";
        };
    }

    @Override
    public void gather(DeviceKvMemory kv, int[] slotMapping, int from, int to, MemorySegment chunk) {
        CopyArguments.requireRange(slotMapping, from, to);
        gather(kv, slotMapping, List.of(new ChunkCopy(from, to, chunk)));
    }

    @Override
    public void scatter(MemorySegment chunk, DeviceKvMemory kv, int[] slotMapping, int from, int to) {
        CopyArguments.requireRange(slotMapping, from, to);
        scatter(List.of(new ChunkCopy(from, to, chunk)), kv, slotMapping);
    }

    /**
     * Copies each chunk's tokens out of {@code kv} into its buffer, pipelined across chunks; tokens with a
     * negative slot are left as they are in the buffer. Returns when every chunk is complete.
     */
    @Override
    public void gather(DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> chunks) {
        copy(kv, slotMapping, chunks, true);
    }

    /** Copies each chunk's buffer into {@code kv}, pipelined across chunks; negative slots are skipped. */
    @Override
    public void scatter(List<ChunkCopy> chunks, DeviceKvMemory kv, int[] slotMapping) {
        copy(kv, slotMapping, chunks, false);
    }

    private void copy(DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> chunks, boolean gather) {
        CopyArguments.require(kv, slotMapping, chunks);
        CopyLane lane = usableLane(kv);
        if (chunks.stream().allMatch(c -> c.tokens() == 0)) {
            return;
        }
        KvShape shape = KvShape.of(kv);
        try (CopyLane.Turn _ = lane.takeTurn(); CopyLane.Current _ = lane.enter()) {
            try {
                ChunkPlan plan = ChunkPlan.prepare(lane, shape, kv, slotMapping, chunks, mapper(lane));
                if (gather) {
                    ChunkPipeline.gather(lane, shape, plan);
                } else {
                    ChunkPipeline.scatter(lane, shape, plan);
                }
            } catch (RuntimeException e) {
                lane.quiesce(e);
                throw e;
            }
        }
    }

    /**
     * Starts a layerwise store of {@code chunks} out of {@code kv}: the engine calls
     * {@link LayerwiseStore#layerComputed} after queuing each layer's computation on {@code engineStream}
     * (a {@code CUstream}; 0 = the legacy default stream), and closes the store when done. Holds the
     * device's copy turn until closed.
     */
    @Override
    public LayerwiseStore storeLayerwise(DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> chunks, long engineStream) {
        return layerwise(kv, slotMapping, chunks, (lane, shape, plan, turn) ->
                new LayerwiseStoreCopy(lane, shape, plan, new CudaStream(engineStream), turn));
    }

    /**
     * Starts a layerwise retrieve of {@code chunks} into {@code kv}: every layer is queued at once, in layer
     * order, after the work already on {@code engineStream}; the engine calls
     * {@link LayerwiseRetrieve#awaitLayer} before each layer's attention. The chunk buffers must stay
     * unchanged until the retrieve is closed.
     */
    @Override
    public LayerwiseRetrieve retrieveLayerwise(List<ChunkCopy> chunks, DeviceKvMemory kv, int[] slotMapping, long engineStream) {
        return layerwise(kv, slotMapping, chunks, (lane, shape, plan, turn) ->
                new LayerwiseRetrieveCopy(lane, shape, plan, new CudaStream(engineStream), turn));
    }

    private interface LayerwiseFactory<T> {
        T open(CopyLane lane, KvShape shape, ChunkPlan plan, CopyLane.Turn turn);
    }

    private <T> T layerwise(DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> chunks, LayerwiseFactory<T> factory) {
        CopyArguments.require(kv, slotMapping, chunks);
        CopyLane lane = usableLane(kv);
        KvShape shape = KvShape.of(kv);
        CopyLane.Turn turn = lane.takeTurn();
        boolean ok = false;
        try (CopyLane.Current _ = lane.enter()) {
            try {
                T copy = factory.open(lane, shape, ChunkPlan.prepare(lane, shape, kv, slotMapping, chunks, mapper(lane)), turn);
                ok = true;
                return copy;
            } catch (RuntimeException e) {
                lane.quiesce(e);
                throw e;
            }
        } finally {
            if (!ok) {
                turn.close();
            }
        }
    }

    /**
     * Page-locks {@code host} and maps it for every device, so chunk buffers inside it are copied in place
     * (zero-copy) and asynchronously. The cpu tier registers each slab once; close the result before
     * freeing the memory.
     */
    @Override
    public HostRegistration registerHost(MemorySegment host) {
        if (host == null || !host.isNative() || host.byteSize() == 0) {
            throw new IllegalArgumentException("host memory: " + host + " (expected: a non-empty off-heap segment)");
        }
        CopyLane lane = registrationLane();
        registry.add(host);
        boolean ok = false;
        try (CopyLane.Current _ = lane.enter()) {
            lane.api.registerHost(host);
            ok = true;
        } finally {
            if (!ok) {
                registry.remove(host);
            }
        }
        return new HostRegistration() {
            @Override
            public MemorySegment memory() {
                return host;
            }

            @Override
            public void close() {
                unregister(host);
            }
        };
    }

    private void unregister(MemorySegment host) {
        if (!registry.remove(host)) {
            return; // closed before, or by close() of this engine
        }
        CopyLane lane;
        synchronized (this) {
            lane = lanes.get(0);
        }
        if (lane != null) {
            unregister(lane, host);
        }
    }

    private static void unregister(CopyLane lane, MemorySegment host) {
        try (CopyLane.Current _ = lane.enter()) {
            lane.api.unregisterHost(host);
        }
    }

    /** The lane whose context host registrations are made in (device 0's; registrations are portable). */
    private CopyLane registrationLane() {
        access.require();
        synchronized (this) {
            requireOpen();
        }
        return lane(0);
    }

    /** Maps a chunk buffer to its device address when it lies in registered memory and zero-copy is on. */
    private BiFunction<MemorySegment, Long, Optional<DevicePtr>> mapper(CopyLane lane) {
        return (host, bytes) -> zeroCopy
                ? registry.containing(host, bytes).map(range -> lane.api.mappedPointer(range).plus(host.address() - range.address()))
                : Optional.empty();
    }

    private CopyLane usableLane(DeviceKvMemory kv) {
        synchronized (this) {
            requireOpen();
            CopyLane lane = lanes.get(kv.deviceOrdinal());
            if (lane != null && (long) kv.layout().planes() * kv.layout().numLayers() <= KvCopyArgs.MAX_GRID_Y) {
                return lane;
            }
        }
        String reason = unsupportedReason(kv);
        if (!reason.isEmpty()) {
            throw new IllegalStateException(reason);
        }
        return lane(kv.deviceOrdinal());
    }

    private synchronized CopyLane lane(int ordinal) {
        requireOpen();
        CopyLane lane = lanes.get(ordinal);
        if (lane == null) {
            DeviceApi api = access.require();
            lane = new CopyLane(api, ordinal);
            lanes.put(ordinal, lane);
            LOG.info("CUDA copy engine: device {} ({}) ready, zero-copy for registered host memory {}", ordinal,
                    api.deviceName(ordinal), zeroCopy ? "on" : "off");
        }
        return lane;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("CUDA copy engine: closed");
        }
    }

    /**
     * Unregisters remaining host memory and frees every device's resources, after the copies in progress
     * (waiting at most {@value #CLOSE_WAIT_SECONDS} s per device); idempotent.
     */
    @Override
    public void close() {
        Map<Integer, CopyLane> open;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            open = new HashMap<>(lanes);
            lanes.clear();
        }
        for (MemorySegment host : registry.all()) {
            if (registry.remove(host) && open.containsKey(0)) {
                try {
                    unregister(open.get(0), host);
                } catch (RuntimeException e) {
                    LOG.warn("CUDA copy engine: unregistering {} failed: {}", HostRegistry.describe(host), e.getMessage());
                }
            }
        }
        for (CopyLane lane : open.values()) {
            try (CopyLane.Turn _ = lane.awaitTurn(CLOSE_WAIT_SECONDS)) {
                lane.close();
            } catch (RuntimeException e) {
                LOG.warn("CUDA copy engine: freeing device {} failed: {}", lane.context.deviceOrdinal(), e.getMessage());
            }
        }
        access.close();
    }

    @Override
    public String toString() {
        return "CudaCopyEngine[zeroCopy " + zeroCopy + "]";
    }
}
