package org.lmcache4j.storage;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.lmcache4j.nativeio.OffHeapSlab;

/**
 * Hands out fixed-size chunk pages carved from pinned off-heap slabs. Fixed pages cannot fragment;
 * slabs are mapped lazily as pages are needed and never exceed the byte budget: at most
 * {@code floor(budgetBytes / pageBytes)} pages exist. Thread-safe.
 */
final class PinnedSlabAllocator implements AutoCloseable {

    /** Largest slab mapped at once; a budget of many GiB is mapped in steps of this size. */
    static final long MAX_SLAB_BYTES = 256L << 20;

    private final long pageBytes;
    private final int capacityPages;
    private final int pagesPerSlab;
    private final boolean pin;

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
        this.pagesPerSlab = (int) Math.max(1, Math.min(capacityPages, MAX_SLAB_BYTES / pageBytes));
        this.pin = pin;
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
            return slabs.stream().mapToLong(OffHeapSlab::sizeBytes).sum();
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

    /** Unmaps every slab; pages still referenced become inaccessible (access throws, never crashes). */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            free.clear();
            slabs.forEach(OffHeapSlab::close);
            slabs.clear();
        }
    }
}
