package org.lmcache4j.gpu;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device's copy resources: its primary context, a compute stream (kernels) and a copy stream
 * (transfers), the kernels, two staging buffers, the table memory, and the events that order the two
 * streams. Copies on one device take turns ({@link #takeTurn()}); a turn may span calls from different
 * threads (a layerwise copy), so it is a permit, not a lock.
 */
final class CopyLane implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CopyLane.class);

    final DeviceApi api;
    final CudaContext context;
    final CudaStream compute;
    final CudaStream copy;
    final KvCopyKernels kernels;
    /** Double-buffered staging: chunk (or layer) i uses buffer i % 2. */
    final DeviceScratch[] staging;
    /** The layer-address table and slot table of the current copy. */
    final DeviceScratch tables;
    /** Per staging buffer: recorded when its content is ready for the other stream (kernel done / upload done). */
    final CudaEvent[] filled;
    /** Per staging buffer: recorded when the other stream is done with it, so it may be refilled. */
    final CudaEvent[] drained;
    /** Marks a point of an engine's stream that ours wait for. */
    final CudaEvent engineMark;
    private final Semaphore turn = new Semaphore(1);
    private final List<Runnable> teardown = new ArrayList<>();

    /** Opens the lane of device {@code ordinal}; frees what it took if a step fails. */
    CopyLane(DeviceApi api, int ordinal) {
        this.api = api;
        this.context = api.retainPrimaryContext(ordinal);
        teardown.add(() -> api.releasePrimaryContext(context));
        boolean ok = false;
        try {
            api.pushContext(context);
            try {
                compute = stream();
                copy = stream();
                KvCopyKernels k = KvCopyKernels.load(api);
                teardown.add(() -> k.unload(api));
                kernels = k;
                staging = new DeviceScratch[] {scratch(), scratch()};
                tables = scratch();
                filled = new CudaEvent[] {event(), event()};
                drained = new CudaEvent[] {event(), event()};
                engineMark = event();
            } finally {
                api.popContext();
            }
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    private CudaStream stream() {
        CudaStream s = api.createStream();
        teardown.add(() -> api.destroyStream(s));
        return s;
    }

    private CudaEvent event() {
        CudaEvent e = api.createEvent(false);
        teardown.add(() -> api.destroyEvent(e));
        return e;
    }

    private DeviceScratch scratch() {
        DeviceScratch s = new DeviceScratch(api);
        teardown.add(s::release);
        return s;
    }

    /** Waits for this device's turn; closing the result ends it. */
    Turn takeTurn() {
        turn.acquireUninterruptibly();
        return new Turn(turn);
    }

    /**
     * Waits up to {@code seconds} for this device's turn; past that, logs and returns a turn that ends
     * nothing (closing the lane then proceeds over a copy left open).
     */
    Turn awaitTurn(long seconds) {
        try {
            if (turn.tryAcquire(seconds, TimeUnit.SECONDS)) {
                return new Turn(turn);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.warn("device {}: a copy still holds the device after {} s (a layerwise copy not closed?); freeing anyway",
                context.deviceOrdinal(), seconds);
        return new Turn(null);
    }

    /** Makes this lane's context current until the result is closed. */
    Current enter() {
        api.pushContext(context);
        return new Current(api);
    }

    /** Queues the gather ({@code gather}) or scatter kernel on {@code stream}. */
    void launch(KvCopyArgs args, boolean gather, CudaStream stream) {
        try (Arena arena = Arena.ofConfined()) {
            api.launch(gather ? kernels.gather() : kernels.scatter(), args.gridX(), args.gridY(), KvCopyArgs.BLOCK_THREADS,
                    args.write(arena), stream);
        }
    }

    /**
     * After a copy failed part-way: waits for whatever it had queued, so the next copy may reuse or grow
     * the buffers; failures of the wait are added to {@code failure}.
     */
    void quiesce(RuntimeException failure) {
        for (CudaStream s : new CudaStream[] {compute, copy}) {
            try {
                api.synchronize(s);
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }

    /** Frees everything, last taken first; a failing step does not stop the others (the first failure is thrown). */
    @Override
    public void close() {
        RuntimeException failure = null;
        if (teardown.size() > 1) {
            api.pushContext(context);
            try {
                for (int i = teardown.size() - 1; i > 0; i--) {
                    failure = run(teardown.get(i), failure);
                }
            } finally {
                api.popContext();
            }
        }
        if (!teardown.isEmpty()) {
            failure = run(teardown.get(0), failure); // the primary context: released last, outside itself
            teardown.clear();
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static RuntimeException run(Runnable step, RuntimeException failure) {
        try {
            step.run();
            return failure;
        } catch (RuntimeException e) {
            if (failure == null) {
                return e;
            }
            failure.addSuppressed(e);
            return failure;
        }
    }

    /** A held turn of a lane; closing it twice is harmless. */
    static final class Turn implements AutoCloseable {
        private final Semaphore permit;
        private boolean released;

        private Turn(Semaphore permit) {
            this.permit = permit;
        }

        @Override
        public synchronized void close() {
            if (!released) {
                released = true;
                if (permit != null) {
                    permit.release();
                }
            }
        }
    }

    /** The lane's context made current; closing restores the previous one. */
    static final class Current implements AutoCloseable {
        private final DeviceApi api;

        private Current(DeviceApi api) {
            this.api = api;
        }

        @Override
        public void close() {
            api.popContext();
        }
    }
}
