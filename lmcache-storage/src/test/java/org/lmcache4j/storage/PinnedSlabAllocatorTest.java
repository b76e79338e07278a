package org.lmcache4j.storage;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PinnedSlabAllocatorTest {

    @Test
    void pagesAreAlignedAndTheBudgetCapsTheirNumber() {
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(10 * 8192 + 100, 5000, false)) {
            assertEquals(8192, a.pageBytes(), "5000 bytes round up to whole 4 KiB pages");
            assertEquals(10, a.capacityPages());
            List<ChunkPage> pages = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                ChunkPage p = a.tryAllocate().orElseThrow();
                assertEquals(0, p.memory().address() % 4096);
                pages.add(p);
            }
            assertTrue(a.tryAllocate().isEmpty(), "the 11th page would pass the budget");
            assertEquals(10, a.outstandingPages());
            assertTrue(a.mappedBytes() <= 10 * 8192 + 100);
            pages.forEach(ChunkPage::release);
            assertEquals(0, a.outstandingPages());
        }
    }

    @Test
    void aPageReadByAnotherHolderIsFreedOnlyByTheLastRelease() {
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(1024, 1000, false)) {
            assertEquals(1024, a.pageBytes());
            ChunkPage p = a.tryAllocate().orElseThrow();
            assertTrue(p.retain());
            p.release();
            assertTrue(a.tryAllocate().isEmpty(), "still held by the reader");
            p.release();
            assertFalse(p.retain(), "a freed page cannot be retained");
            assertEquals(0, a.outstandingPages());
            assertTrue(a.tryAllocate().isPresent());
        }
    }

    @Test
    void smallPagesAlignTo64BytesAndBadSizesAreRejected() {
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(1000, 100, false)) {
            assertEquals(128, a.pageBytes());
            assertEquals(7, a.capacityPages());
        }
        assertThrows(IllegalArgumentException.class, () -> new PinnedSlabAllocator(100, 128, false));
        assertThrows(IllegalArgumentException.class, () -> new PinnedSlabAllocator(1000, 0, false));
    }

    @Test
    void closeInvalidatesPagesWithoutCrashing() {
        PinnedSlabAllocator a = new PinnedSlabAllocator(4096, 4096, true);
        ChunkPage p = a.tryAllocate().orElseThrow();
        p.memory().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 1);
        a.close();
        a.close();
        assertThrows(IllegalStateException.class, () -> p.memory().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, a::tryAllocate);
    }

    private static final long MIB = 1 << 20;

    /** Six pages of 1 MiB in three slabs of 2 MiB, all handed out. */
    private static List<ChunkPage> allocateAll(PinnedSlabAllocator a) {
        List<ChunkPage> pages = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            pages.add(a.tryAllocate().orElseThrow());
        }
        assertEquals(6 * MIB, a.mappedBytes());
        return pages;
    }

    private static boolean unmapped(ChunkPage page) {
        try {
            page.memory().get(ValueLayout.JAVA_BYTE, 0);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    /**
     * Regression: when one slab could not be unmapped (a thread was inside a write of its memory), close()
     * threw, left every later slab mapped, and a second close() did nothing: the memory stayed mapped.
     */
    @Test
    void aSlabInUseAtCloseIsUnmappedInTheBackgroundAndTheOthersAtOnce() throws Exception {
        PinnedSlabAllocator a = new PinnedSlabAllocator(6 * MIB, MIB, false, 2 * MIB, Duration.ofSeconds(30));
        List<ChunkPage> pages = allocateAll(a);
        BlockedPipeWriter writer = new BlockedPipeWriter(pages.get(2).memory()); // a page of the second slab
        try {
            assertDoesNotThrow(a::close);
            assertEquals(2 * MIB, a.mappedBytes(), "only the slab in use stays mapped");
            assertTrue(unmapped(pages.get(0)) && unmapped(pages.get(1)), "the first slab is unmapped");
            assertTrue(unmapped(pages.get(4)) && unmapped(pages.get(5)), "the slab after the one in use is unmapped");
            assertFalse(unmapped(pages.get(3)), "the slab in use stays valid while it is used");
            assertDoesNotThrow(a::close);
            assertEquals(2 * MIB, a.mappedBytes(), "still in use");
        } finally {
            writer.release();
        }
        for (int i = 0; i < 500 && a.mappedBytes() > 0; i++) {
            Thread.sleep(10); // retried every 100 ms
        }
        assertEquals(0, a.mappedBytes(), "unmapped by the background retry once the write ended");
        assertTrue(unmapped(pages.get(2)) && unmapped(pages.get(3)));
        pages.forEach(ChunkPage::release);
        assertEquals(0, a.outstandingPages());
    }

    @Test
    void aSecondCloseUnmapsWhatTheFirstCouldNot() throws Exception {
        PinnedSlabAllocator a = new PinnedSlabAllocator(6 * MIB, MIB, false, 2 * MIB, Duration.ZERO); // no background retry
        List<ChunkPage> pages = allocateAll(a);
        BlockedPipeWriter writer = new BlockedPipeWriter(pages.get(5).memory()); // the last slab
        try {
            assertDoesNotThrow(a::close);
            assertEquals(2 * MIB, a.mappedBytes());
        } finally {
            writer.release();
        }
        assertEquals(2 * MIB, a.mappedBytes(), "nothing retried it in the background");
        a.close();
        assertEquals(0, a.mappedBytes(), "the second close() unmapped it");
        assertTrue(unmapped(pages.get(4)));
        assertThrows(IllegalStateException.class, a::tryAllocate);
    }
}
