package org.lmcache4j.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One page-aligned, zeroed block of off-heap memory with a single owner. With libc it is an anonymous
 * {@code mmap}, advised for huge pages and left out of core dumps, then {@code mlock}'ed when
 * {@code pinned} is asked (and the limits allow); without libc it is plain {@link Arena} memory. A slab
 * from {@link #map(long)} is neither locked nor faulted in: its owner makes ranges resident when it
 * chooses ({@link Prefaulter}).
 *
 * <p>{@link #close()} is idempotent and invalidates {@link #segment()} before the memory is unmapped,
 * so a late access throws {@link IllegalStateException} instead of crashing the JVM.
 */
@SuppressWarnings("restricted") // attaches munmap to the slab's arena
public final class OffHeapSlab implements AutoCloseable {

    /** Alignment of every slab: the base page size. */
    public static final long PAGE_BYTES = 4096;

    /** The largest size whose rounding up to whole pages does not overflow a {@code long}. */
    private static final long MAX_REQUEST_BYTES = Long.MAX_VALUE - (PAGE_BYTES - 1);

    private static final Logger LOG = LoggerFactory.getLogger(OffHeapSlab.class);
    private static final AtomicBoolean MLOCK_WARNED = new AtomicBoolean();

    private final Arena arena;
    private final MemorySegment segment;
    private final boolean locked;
    private final boolean mapped;
    private final AtomicBoolean closed = new AtomicBoolean();

    private OffHeapSlab(Arena arena, MemorySegment segment, boolean locked, boolean mapped) {
        this.arena = arena;
        this.segment = segment;
        this.locked = locked;
        this.mapped = mapped;
    }

    /**
     * Allocates {@code sizeBytes} (rounded up to whole pages).
     *
     * @param pinned ask for the memory to be locked in RAM (a failure is logged once, not thrown)
     * @throws IllegalArgumentException when {@code sizeBytes <= 0}, or so large that whole pages overflow a long
     * @throws OutOfMemoryError when the memory cannot be had at all
     */
    public static OffHeapSlab allocate(long sizeBytes, boolean pinned) {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("slab sizeBytes: " + sizeBytes + " (expected: > 0)");
        }
        if (sizeBytes > MAX_REQUEST_BYTES) {
            throw new IllegalArgumentException("slab sizeBytes: " + sizeBytes + " (expected: at most "
                    + MAX_REQUEST_BYTES + ")");
        }
        long size = Math.ceilDiv(sizeBytes, PAGE_BYTES) * PAGE_BYTES;
        Optional<Libc> libc = Libc.instance();
        return libc.isPresent() ? mapped(libc.get(), size, pinned) : heapless(size);
    }

    /**
     * Maps {@code sizeBytes} (rounded up to whole pages) without locking or touching it: with libc, an
     * anonymous {@code mmap} advised for huge pages (before any page is faulted, so they can be huge) and
     * left out of core dumps, costing microseconds whatever the size; without libc, {@link Arena} memory
     * (which the JDK zeroes, so it is resident already).
     *
     * @throws IllegalArgumentException when {@code sizeBytes <= 0}, or so large that whole pages overflow a long
     * @throws OutOfMemoryError when the memory cannot be had at all
     */
    public static OffHeapSlab map(long sizeBytes) {
        return allocate(sizeBytes, false);
    }

    private static OffHeapSlab heapless(long size) {
        Arena arena = Arena.ofShared();
        boolean ok = false;
        try {
            OffHeapSlab slab = new OffHeapSlab(arena, arena.allocate(size, PAGE_BYTES), false, false);
            ok = true;
            return slab;
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    private static OffHeapSlab mapped(Libc libc, long size, boolean pinned) {
        MemorySegment raw;
        try {
            raw = libc.mmapAnonymous(size);
        } catch (NativeCallException e) {
            throw (OutOfMemoryError) new OutOfMemoryError("off-heap slab of " + size + " bytes: " + e.getMessage()).initCause(e);
        }
        long address = raw.address();
        bestEffortAdvise(libc, address, size); // before mlock faults the pages in: huge pages only come to advised ranges
        boolean locked = pinned && tryLock(libc, address, size);
        Arena arena = Arena.ofShared();
        boolean ok = false;
        try {
            MemorySegment segment = raw.reinterpret(size, arena, ignored -> libc.munmap(address, size));
            ok = true;
            return new OffHeapSlab(arena, segment, locked, true);
        } finally {
            if (!ok) {
                arena.close();
                libc.munmap(address, size);
            }
        }
    }

    private static boolean tryLock(Libc libc, long address, long size) {
        try {
            libc.mlock(address, size);
            return true;
        } catch (NativeCallException e) {
            if (MLOCK_WARNED.compareAndSet(false, true)) {
                LOG.warn("cannot pin off-heap cache memory: {}; slabs stay unlocked and may be swapped. "
                        + "Raise the locked-memory limit (ulimit -l, LimitMEMLOCK) to pin them", e.getMessage());
            }
            return false;
        }
    }

    private static void bestEffortAdvise(Libc libc, long address, long size) {
        for (int advice : new int[] {Libc.MADV_HUGEPAGE, Libc.MADV_DONTDUMP}) {
            try {
                libc.madvise(address, size, advice);
            } catch (NativeCallException e) {
                LOG.debug("madvise {} ignored: {}", advice, e.getMessage());
            }
        }
    }

    /** The slab's memory, valid until {@link #close()}. */
    public MemorySegment segment() {
        return segment;
    }

    /** Size in bytes (a multiple of {@link #PAGE_BYTES}). */
    public long sizeBytes() {
        return segment.byteSize();
    }

    /** True when the memory is locked in RAM (pinned). */
    public boolean locked() {
        return locked;
    }

    /** True when the memory came from {@code mmap} rather than the {@link Arena} fallback. */
    public boolean nativeMapped() {
        return mapped;
    }

    /** True once closed. */
    public boolean isClosed() {
        return closed.get();
    }

    /**
     * Frees the memory (munlock is implied by munmap); idempotent.
     *
     * @throws IllegalStateException when a native call is using the memory right now; the slab then stays
     *                               open and valid, and {@code close()} can be called again later
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                arena.close();
            } catch (RuntimeException e) {
                closed.set(false); // nothing was freed: leave the slab open so a later close() frees it
                throw e;
            }
        }
    }
}
