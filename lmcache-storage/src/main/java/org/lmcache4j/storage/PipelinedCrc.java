package org.lmcache4j.storage;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.CRC32C;

/**
 * The CRC32C of a memory region that its owner fills front to back (a chunk read from a file), computed
 * on a helper thread while the owner reads the next block, so that verifying a chunk overlaps reading it.
 *
 * <p>The owner calls {@link #filled} after each block it read and {@link #finish} after the last; then
 * it takes over the part the helper has not claimed yet (checksummed at once, the last block still in
 * the CPU cache), waits only for the block the helper is on, and combines the two checksums
 * ({@link Crc32cCombine}). {@link #close} (always, in a finally) returns only once the helper no longer
 * touches the region, so the region may be freed after it. When every helper is busy (there is one per
 * core but one, shared by every reader of the JVM), or the region is confined to the owner's thread,
 * the owner checksums each block itself right after reading it: the result is the same either way.
 *
 * <p>Implementation notes. The helper claims {@value #BLOCK_BYTES}-byte pieces of what the owner
 * published by advancing {@code claimed} with a CAS; the owner ends the claiming by swapping in
 * {@link #STOPPED}, which also tells it where the helper's part ends. Helpers are daemon threads that
 * spin for the next block ({@value #BLOCK_SPIN_NANOS} ns) or the next region ({@value #SPIN_NANOS} ns: a
 * retrieve reads chunk after chunk) before they park: a wake-up costs tens of microseconds on a virtual
 * machine, more than reading a warm block. The price is a second core busy while a chunk is read.
 */
final class PipelinedCrc implements AutoCloseable {

    /** Piece of the region the helper checksums at once: fits the CPU's L2 cache. */
    static final int BLOCK_BYTES = 256 * 1024;
    /**
     * How long an idle helper spins for the next region before it parks: longer than the gap between two
     * chunks of one retrieve.
     */
    static final long SPIN_NANOS = 100_000;
    /**
     * How long a helper at work spins for the owner's next block before it parks: a cold block read takes
     * up to about this long, and waking a parked thread (a futex wake, an interrupt to the other virtual
     * CPU) cost more than the checksum it saved when the helper parked after {@value #SPIN_NANOS} ns.
     */
    static final long BLOCK_SPIN_NANOS = 1_000_000;

    private static final long STOPPED = Long.MIN_VALUE;
    private static final int HELPER_COUNT = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    private static final Helper[] HELPERS = new Helper[HELPER_COUNT];
    /** A thread that owns nothing: a region it may access is one any helper may access. */
    private static final Thread NOT_THE_OWNER = Thread.ofPlatform().unstarted(() -> { });

    static {
        for (int i = 0; i < HELPER_COUNT; i++) {
            HELPERS[i] = new Helper();
        }
    }

    private final MemorySegment region;
    private final CRC32C inline; // non-null when the owner checksums each block itself
    private final AtomicLong claimed = new AtomicLong(); // [0, claimed) is the helper's; STOPPED once the owner took over
    private volatile long filledBytes;
    private volatile long helperDoneBytes; // the helper has checksummed [0, helperDoneBytes)
    private volatile Thread parkedHelper;
    private volatile boolean helperFailed; // then the owner checksums the whole region itself
    private int helperCrc; // CRC32C of [0, helperDoneBytes), written before helperDoneBytes
    private long helperEnd = -1; // where the helper's part ends, once stopped

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
        if (pipelined && region.byteSize() > BLOCK_BYTES && region.isAccessibleBy(NOT_THE_OWNER)) {
            PipelinedCrc c = new PipelinedCrc(region, true);
            for (Helper h : HELPERS) {
                if (h.offer(c)) {
                    return c;
                }
            }
        }
        return new PipelinedCrc(region, false);
    }

    /** True when a helper checksums (part of) this region; false when the owner does it all. */
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

    /** The CRC32C of the whole region, once it is filled: the helper's part combined with the rest, checksummed here. */
    int finish() {
        if (inline != null) {
            return (int) inline.getValue();
        }
        long from = stopHelper();
        CRC32C rest = new CRC32C();
        rest.update(region.asSlice(from).asByteBuffer());
        awaitHelper(from);
        if (helperFailed) {
            CRC32C all = new CRC32C();
            all.update(region.asByteBuffer());
            return (int) all.getValue();
        }
        return from == 0 ? (int) rest.getValue() : Crc32cCombine.combine(helperCrc, (int) rest.getValue(), region.byteSize() - from);
    }

    /** Stops the helper, and waits until it no longer touches the region; idempotent. */
    @Override
    public void close() {
        if (inline == null) {
            awaitHelper(stopHelper());
        }
    }

    /** Ends the helper's claims; returns where its part ends. */
    private long stopHelper() {
        if (helperEnd < 0) {
            helperEnd = claimed.getAndSet(STOPPED);
            Thread h = parkedHelper;
            if (h != null) {
                LockSupport.unpark(h);
            }
        }
        return helperEnd;
    }

    private void awaitHelper(long end) {
        for (int spins = 1; helperDoneBytes < end; spins++) {
            relax(spins); // at most one block in progress: microseconds, unless the helper waits for this core
        }
    }

    /**
     * One turn of a spin-wait: a pause, and every 64th turn a yield, so that a spinning thread never keeps
     * the thread it waits for off a shared core for a whole time slice (two cores, two threads, and
     * anything else runnable is enough for the scheduler to put both on one).
     */
    private static void relax(int spins) {
        if ((spins & 63) == 0) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    /** Run by a helper: checksums published blocks until the owner takes over. */
    private void help() {
        CRC32C crc = new CRC32C();
        long idleSince = System.nanoTime();
        for (int spins = 1;; spins++) {
            long c = claimed.get();
            if (c == STOPPED) {
                return;
            }
            long f = filledBytes;
            if (f > c) {
                long end = Math.min(f, c + BLOCK_BYTES);
                if (claimed.compareAndSet(c, end)) {
                    try {
                        crc.update(region.asSlice(c, end - c).asByteBuffer());
                    } catch (RuntimeException | Error e) { // cannot happen while the owner keeps its contract
                        helperFailed = true;
                        helperDoneBytes = Long.MAX_VALUE;
                        throw e;
                    }
                    helperCrc = (int) crc.getValue();
                    helperDoneBytes = end;
                    idleSince = System.nanoTime();
                }
            } else if (System.nanoTime() - idleSince < BLOCK_SPIN_NANOS) {
                relax(spins);
            } else {
                parkedHelper = Thread.currentThread();
                if (filledBytes == f && claimed.get() != STOPPED) { // re-checked once visible: no wake-up is lost
                    LockSupport.parkNanos(this, 1_000_000);
                }
                parkedHelper = null;
                idleSince = System.nanoTime();
            }
        }
    }

    /** One helper thread, started on first use, with a slot for the region it works on. */
    private static final class Helper implements Runnable {
        private final AtomicBoolean busy = new AtomicBoolean();
        private final AtomicReference<PipelinedCrc> slot = new AtomicReference<>();
        private volatile Thread thread;
        private volatile boolean parked;

        boolean offer(PipelinedCrc job) {
            if (!busy.compareAndSet(false, true)) {
                return false;
            }
            slot.set(job);
            Thread t = thread;
            if (t == null) {
                synchronized (this) {
                    if (thread == null) {
                        thread = Thread.ofPlatform().daemon().name("lmcache-disk-checksum").start(this);
                    }
                }
            } else if (parked) {
                LockSupport.unpark(t);
            }
            return true;
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            for (int spins = 1;; spins++) {
                PipelinedCrc job = slot.getAndSet(null);
                if (job != null) {
                    try {
                        job.help();
                    } catch (RuntimeException | Error e) {
                        // the owner checksums the region itself (helperFailed); this thread stays for the next one
                    } finally {
                        busy.set(false);
                    }
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    relax(spins);
                } else {
                    parked = true;
                    if (slot.get() == null) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
