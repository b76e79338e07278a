package org.lmcache4j.storage.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One fixed-size page of a {@link PinnedSlabAllocator}, reference counted: the allocation holds one
 * reference, each reader one more. The page returns to the free list only when the count reaches
 * zero, so a chunk being read can never be freed or handed to a writer.
 */
public final class ChunkPage {

    private final PinnedSlabAllocator owner;
    private final MemorySegment memory;
    private final AtomicInteger refs = new AtomicInteger();

    ChunkPage(PinnedSlabAllocator owner, MemorySegment memory) {
        this.owner = owner;
        this.memory = memory;
    }

    /** The whole page. */
    public MemorySegment memory() {
        return memory;
    }

    /** Called by the allocator when it hands the page out: one reference, the allocation's. */
    void onAllocate() {
        if (!refs.compareAndSet(0, 1)) {
            throw new IllegalStateException("page handed out while still referenced (" + refs.get() + ")");
        }
    }

    /** Adds a reference; false when the page is already free (the caller must not use it). */
    public boolean retain() {
        for (;;) {
            int r = refs.get();
            if (r == 0) {
                return false;
            }
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; the last one returns the page to its allocator. */
    public void release() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            owner.free(this);
        } else if (r < 0) {
            throw new IllegalStateException("page released more often than retained");
        }
    }

    /** References held now (for eviction decisions and tests). */
    int references() {
        return refs.get();
    }
}
