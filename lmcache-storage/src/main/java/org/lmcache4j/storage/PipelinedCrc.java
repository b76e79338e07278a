package org.lmcache4j.storage;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.CRC32C;

/**
 * The CRC32C of a memory region that its owner fills front to back (a chunk read from a file), computed
 * on a helper thread while the owner reads the next block, so that verifying a chunk overlaps reading it
 * instead of following each block.
 *
 * <p>The owner calls {@link #filled} after each block and {@link #finish} after the last; {@link #close}
 * (always, in a finally) returns only once the helper no longer touches the region, so the region may be
 * freed after it. When no helper is free (one per core but one, shared by every reader of the JVM), or
 * the region is confined to the owner's thread, the owner checksums each block itself right after
 * reading it, while it is still in the CPU cache: the result is the same either way. A helper that has
 * not started by the time the owner finishes is called off, and the owner checksums the region itself.
 *
 * <p>Implementation notes. The owner publishes progress in a volatile field; the helper checksums what is
 * published, spins briefly when it has caught up, then parks until the owner publishes more (the owner
 * unparks it only when it is parked). One instance serves one read, by one owner thread.
 */
final class PipelinedCrc implements AutoCloseable {

    private static final int QUEUED = 0;
    private static final int RUNNING = 1;
    private static final int DONE = 2;
    private static final int CALLED_OFF = 3;

    /** Spins of a waiting thread before it parks: a few microseconds, about one warm 256 KiB read. */
    private static final int SPINS = 2_000;
    private static final long PARK_NANOS = 200_000;

    private static final int HELPERS = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    private static final ThreadPoolExecutor POOL = new ThreadPoolExecutor(0, HELPERS, 30, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> Thread.ofPlatform().daemon().name("lmcache-disk-checksum").unstarted(r));
    /** A thread that owns nothing: a region it may access is one any helper may access. */
    private static final Thread NOT_THE_OWNER = Thread.ofPlatform().unstarted(() -> { });

    private final MemorySegment region;
    private final Thread owner = Thread.currentThread();
    private final AtomicInteger state = new AtomicInteger(QUEUED);
    private final CRC32C inline; // non-null when the owner checksums itself
    private volatile long filledBytes;
    private volatile boolean cancelled;
    private volatile Thread parkedHelper;
    private volatile boolean ownerWaiting;
    private int helperCrc; // written by the helper before it sets DONE

    private PipelinedCrc(MemorySegment region, boolean pipelined) {
        this.region = region;
        this.inline = pipelined ? null : new CRC32C();
    }

    /**
     * Starts checksumming {@code region} as it is filled, on a helper when one is free and may access it.
     *
     * @param pipelined false to checksum on the owner's thread only
     */
    static PipelinedCrc start(MemorySegment region, boolean pipelined) {
        if (!pipelined || region.byteSize() == 0 || !region.isAccessibleBy(NOT_THE_OWNER)) {
            return new PipelinedCrc(region, false);
        }
        PipelinedCrc c = new PipelinedCrc(region, true);
        try {
            POOL.execute(c::runHelper);
            return c;
        } catch (RejectedExecutionException allHelpersBusy) {
            return new PipelinedCrc(region, false);
        }
    }

    /** True when a helper checksums (or may still checksum) this region; false when the owner does. */
    boolean pipelined() {
        return inline == null;
    }

    /**
     * Tells that the region is filled up to {@code endBytes}, {@code block} being what was filled last
     * (checksummed here at once when there is no helper).
     */
    void filled(MemorySegment block, long endBytes) {
        if (inline != null) {
            inline.update(block.asByteBuffer());
            return;
        }
        filledBytes = endBytes;
        Thread h = parkedHelper;
        if (h != null) {
            LockSupport.unpark(h);
        }
    }

    /** The CRC32C of the whole region, once it is filled: waits for the helper, or checksums it here. */
    int finish() {
        if (inline != null) {
            return (int) inline.getValue();
        }
        if (state.compareAndSet(QUEUED, CALLED_OFF)) {
            CRC32C crc = new CRC32C();
            crc.update(region.asByteBuffer());
            return (int) crc.getValue();
        }
        awaitHelper();
        return helperCrc;
    }

    /** Calls the helper off, or waits until it stopped touching the region; idempotent. */
    @Override
    public void close() {
        if (inline != null) {
            return;
        }
        cancelled = true;
        if (state.compareAndSet(QUEUED, CALLED_OFF)) {
            return;
        }
        Thread h = parkedHelper;
        if (h != null) {
            LockSupport.unpark(h);
        }
        awaitHelper();
    }

    private void awaitHelper() {
        for (int i = 0; i < SPINS && state.get() == RUNNING; i++) {
            Thread.onSpinWait();
        }
        while (state.get() == RUNNING) {
            ownerWaiting = true;
            if (state.get() == RUNNING) {
                LockSupport.parkNanos(this, PARK_NANOS);
            }
        }
        ownerWaiting = false;
    }

    private void runHelper() {
        if (!state.compareAndSet(QUEUED, RUNNING)) {
            return; // called off before it started
        }
        try {
            CRC32C crc = new CRC32C();
            long total = region.byteSize();
            long done = 0;
            int idle = 0;
            while (done < total && !cancelled) {
                long filled = filledBytes;
                if (filled > done) {
                    crc.update(region.asSlice(done, filled - done).asByteBuffer());
                    done = filled;
                    idle = 0;
                } else if (idle++ < SPINS) {
                    Thread.onSpinWait();
                } else {
                    parkedHelper = Thread.currentThread();
                    if (filledBytes == done && !cancelled) { // published before we were visible: no unpark is coming
                        LockSupport.parkNanos(this, PARK_NANOS);
                    }
                    parkedHelper = null;
                    idle = 0;
                }
            }
            helperCrc = (int) crc.getValue();
        } finally {
            state.set(DONE);
            if (ownerWaiting) {
                LockSupport.unpark(owner);
            }
        }
    }
}
