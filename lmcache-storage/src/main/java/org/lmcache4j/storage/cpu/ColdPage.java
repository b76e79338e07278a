package org.lmcache4j.storage.cpu;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.lmcache4j.nativeio.OffHeapSlab;

/**
 * A page of a {@link PinnedSlabAllocator} mapped but not yet faulted in: its slab's memory, offset and
 * length, and the page itself.
 */
record ColdPage(MemorySegment slab, long offset, long length, ChunkPage page) {

    /** The page's own memory, exactly. */
    MemorySegment memory() {
        return slab.asSlice(offset, length);
    }

    /** What to fault in for this page: {@link #span} of the page alone. */
    MemorySegment range() {
        return span(List.of(this));
    }

    /**
     * What to fault in (and lock) for consecutive pages of one slab: their memory widened to the huge-page
     * (2 MiB) boundaries around it, within the slab. {@code mlock} splits the mapping at both ends of the
     * range it locks, and a 2 MiB region cut by such a split can no longer be a huge page: locking page by
     * page, with pages of 11.25 MiB (a 4,096-token chunk of the demo's model), cost one region in six its
     * huge page (204 of 247 MiB huge). Faulting in a neighbour's memory early changes nothing in it.
     */
    static MemorySegment span(List<ColdPage> pages) {
        ColdPage first = pages.getFirst();
        ColdPage last = pages.getLast();
        MemorySegment slab = first.slab();
        long base = slab.address();
        long from = Math.max(0, Math.floorDiv(base + first.offset(), HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES - base);
        long to = Math.min(slab.byteSize(), Math.ceilDiv(base + last.offset() + last.length(), HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES - base);
        from = from / OffHeapSlab.PAGE_BYTES * OffHeapSlab.PAGE_BYTES; // the slab starts on a 4 KiB page: whole ones
        to = Math.min(slab.byteSize(), Math.ceilDiv(to, OffHeapSlab.PAGE_BYTES) * OffHeapSlab.PAGE_BYTES);
        return slab.asSlice(from, to - from);
    }

    /** Size of an x86-64 / arm64 (4 KiB granule) transparent huge page. */
    static final long HUGE_PAGE_BYTES = 2L << 20;
}
