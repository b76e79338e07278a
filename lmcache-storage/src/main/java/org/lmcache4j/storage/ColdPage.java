package org.lmcache4j.storage;

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

    /** The page's memory widened to whole 4 KiB pages (a small chunk page may share one with its neighbours). */
    MemorySegment range() {
        return span(List.of(this));
    }

    /** The memory of consecutive pages of one slab, widened to whole 4 KiB pages. */
    static MemorySegment span(List<ColdPage> pages) {
        ColdPage first = pages.getFirst();
        ColdPage last = pages.getLast();
        long from = first.offset() / OffHeapSlab.PAGE_BYTES * OffHeapSlab.PAGE_BYTES;
        long to = Math.min(first.slab().byteSize(),
                Math.ceilDiv(last.offset() + last.length(), OffHeapSlab.PAGE_BYTES) * OffHeapSlab.PAGE_BYTES);
        return first.slab().asSlice(from, to - from);
    }
}
