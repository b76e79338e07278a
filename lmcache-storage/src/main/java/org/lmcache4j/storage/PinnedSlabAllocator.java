package org.lmcache4j.storage;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.lmcache4j.nativeio.OffHeapSlab;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands out fixed-size chunk pages carved from pinned off-heap slabs. Fixed pages cannot fragment;
 * slabs are mapped lazily as pages are needed and never exceed the byte budget: at most
 * {@code floor(budgetBytes / pageBytes)} pages exist. Thread-safe. {@link #close()} never throws and
 * never leaves memory mapped for good (see there).
 */
final class PinnedSlabAllocator implements AutoCloseable {

    /** Largest slab mapped at once; a budget of many GiB is mapped in steps of this size. */
    static final long MAX_SLAB_BYTES = 256L << 20;
    /** How long slabs a close could not unmap are retried in the background. */
    static final Duration RETRY_UNMAP_FOR = Duration.ofSeconds(60);
    /** Pause between background retries of slabs a close could not unmap. */
    static final long RETRY_INTERVAL_MILLIS = 100;

    private static final Logger LOG = LoggerFactory.getLogger(PinnedSlabAllocator.class);

    private final long pageBytes;
    private final int capacityPages;
    private final int pagesPerSlab;
    private final boolean pin;
    private final Duration retryUnmapFor;

    private final Object lock = new Object();
    private final List<OffHeapSlab> slabs = new ArrayList<>();
    private final ArrayDeque<ChunkPage> free = new ArrayDeque<>();
    private int carvedPages;
    private int outstandingPages;
    private boolean closed;

    /**
     * @param budgetBytes hard limit on the bytes of all slabs
     * @param chunkBytes  largest chunk a page must hold; pages are this rounded up to 64 bytes
     *                    (4 KiB from 4 KiB on), so pages stay aligned for wide copies
     * @param pin         lock slabs in RAM (best effort)
     */
    PinnedSlabAllocator(long budgetBytes, long chunkBytes, boolean pin) {
        this(budgetBytes, chunkBytes, pin, MAX_SLAB_BYTES, RETRY_UNMAP_FOR);
    }

    /**
     * @param maxSlabBytes   largest slab mapped at once (tests map several small slabs)
     * @param retryUnmapFor  how long a background thread keeps retrying slabs a {@link #close()} could not unmap
     */
    PinnedSlabAllocator(long budgetBytes, long chunkBytes, boolean pin, long maxSlabBytes, Duration retryUnmapFor) {
        if (chunkBytes <= 0) {
            throw new IllegalArgumentException("chunk bytes: " + chunkBytes + " (expected: > 0)");
        }
        long align = chunkBytes >= OffHeapSlab.PAGE_BYTES ? OffHeapSlab.PAGE_BYTES : 64;
        this.pageBytes = Math.ceilDiv(chunkBytes, align) * align;
        long pages = budgetBytes / pageBytes;
        if (pages < 1) {
            throw new IllegalArgumentException("cpu budget: " + budgetBytes + " bytes (expected: at least one chunk page of "
                    + pageBytes + " bytes)");
        }
        this.capacityPages = (int) Math.min(Integer.MAX_VALUE, pages);
        this.pagesPerSlab = (int) Math.max(1, Math.min(capacityPages, maxSlabBytes / pageBytes));
        this.pin = pin;
        this.retryUnmapFor = retryUnmapFor;
        // Map (and pin) the first slab now: its mmap, mlock and first-touch faults cost up to half a second for
        // 256 MiB, which would otherwise land inside the first request's time to first token.
        synchronized (lock) {
            try {
                carveSlab();
            } catch (OutOfMemoryError e) {
                // no memory for it now: slabs are mapped on demand, and a failure then is a dropped store
            }
        }
    }

    /** Bytes of one page. */
    long pageBytes() {
        return pageBytes;
    }

    /** Most pages that can exist. */
    int capacityPages() {
        return capacityPages;
    }

    /** Pages handed out and not yet freed (held by the index or by readers). */
    int outstandingPages() {
        synchronized (lock) {
            return outstandingPages;
        }
    }

    /** Bytes of slab memory mapped now. */
    long mappedBytes() {
        synchronized (lock) {
            return mappedBytesLocked();
        }
    }

    /** A free page holding one reference, or empty when all pages are out. */
    Optional<ChunkPage> tryAllocate() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("chunk allocator closed");
            }
            if (free.isEmpty() && carvedPages < capacityPages) {
                carveSlab();
            }
            ChunkPage page = free.pollFirst();
            if (page == null) {
                return Optional.empty();
            }
            page.onAllocate();
            outstandingPages++;
            return Optional.of(page);
        }
    }

    /** Returns a page whose last reference was dropped. */
    void free(ChunkPage page) {
        synchronized (lock) {
            outstandingPages--;
            if (!closed) {
                free.addFirst(page); // LIFO: the hottest page is reused first
            }
        }
    }

    private void carveSlab() {
        int pages = Math.min(pagesPerSlab, capacityPages - carvedPages);
        OffHeapSlab slab = OffHeapSlab.allocate(pages * pageBytes, pin);
        slabs.add(slab);
        MemorySegment memory = slab.segment();
        for (int i = 0; i < pages; i++) {
            free.addLast(new ChunkPage(this, memory.asSlice(i * pageBytes, pageBytes)));
        }
        carvedPages += pages;
    }

    /**
     * Unmaps every slab; pages still referenced become inaccessible (access throws, never crashes). Never
     * throws: a slab whose memory a native call is using right now (a file or socket write of a buffer
     * over it) cannot be unmapped yet; it stays mapped and valid, every other slab is unmapped at once,
     * and the slabs left are retried by a background thread (every {@value #RETRY_INTERVAL_MILLIS} ms, for
     * a bounded time) and by every later {@code close()}.
     */
    @Override
    public void close() {
        synchronized (lock) {
            boolean first = !closed;
            closed = true;
            free.clear();
            List<RuntimeException> failures = unmapSlabs();
            if (first && !failures.isEmpty()) {
                LOG.warn("cpu tier memory: {} bytes in {} slab(s) stay mapped after close: a native call is using them ({}); "
                        + "a later close() retries{}", mappedBytesLocked(), slabs.size(), failures.getFirst().getMessage(),
                        retryUnmapFor.isPositive() ? ", and so does a background thread every " + RETRY_INTERVAL_MILLIS
                                + " ms for " + retryUnmapFor.toSeconds() + " s" : "");
                if (retryUnmapFor.isPositive()) {
                    Thread.ofPlatform().daemon().name("lmcache-slab-unmap").start(this::retryUnmap);
                }
            }
        }
    }

    /** Tries to unmap every slab left; keeps those that fail; returns their failures (locked). */
    private List<RuntimeException> unmapSlabs() {
        List<RuntimeException> failures = new ArrayList<>();
        for (Iterator<OffHeapSlab> it = slabs.iterator(); it.hasNext(); ) {
            OffHeapSlab slab = it.next();
            try {
                slab.close();
                it.remove();
            } catch (RuntimeException e) {
                failures.add(e); // stays open and valid (OffHeapSlab.close): retried later
            }
        }
        return failures;
    }

    /** The background retry after a close that left slabs mapped: runs until they are unmapped or time is up. */
    private void retryUnmap() {
        long deadline = System.nanoTime() + retryUnmapFor.toNanos();
        for (;;) {
            try {
                Thread.sleep(RETRY_INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            synchronized (lock) {
                List<RuntimeException> failures = unmapSlabs();
                if (slabs.isEmpty()) {
                    LOG.info("cpu tier memory: the slabs left mapped at close are unmapped now");
                    return;
                }
                if (System.nanoTime() - deadline >= 0) {
                    LOG.warn("cpu tier memory: {} bytes ({} slab(s)) still mapped {} s after close, still in use ({}); "
                            + "no more background retries, a later close() retries", mappedBytesLocked(), slabs.size(),
                            retryUnmapFor.toSeconds(), failures.getFirst().getMessage());
                    return;
                }
            }
        }
    }

    private long mappedBytesLocked() {
        return slabs.stream().mapToLong(OffHeapSlab::sizeBytes).sum();
    }
}
