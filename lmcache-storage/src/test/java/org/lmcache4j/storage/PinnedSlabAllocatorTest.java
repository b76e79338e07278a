package org.lmcache4j.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
