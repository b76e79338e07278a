package org.lmcache4j.storage.cpu;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.lmcache4j.nativeio.Libc;

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

    /** Six pages of 1 MiB in three slabs of 2 MiB, all handed out in address order (no background thread takes pages). */
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
        PinnedSlabAllocator a = new PinnedSlabAllocator(6 * MIB, MIB, false, 2 * MIB, 0, Duration.ofSeconds(30));
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
        PinnedSlabAllocator a = new PinnedSlabAllocator(6 * MIB, MIB, false, 2 * MIB, 0, Duration.ZERO); // no background retry
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

    private static long resident(ChunkPage page) {
        return Libc.instance().orElseThrow().residentBytes(page.memory());
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void pagesHandedOutAreResidentAlreadyWithinTheBudget() throws Exception {
        // 40 pages of 1 MiB in slabs of 16 MiB, all of them kept ready ahead: the budget caps the ready pages.
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(40 * MIB + 100, MIB, false, 16 * MIB, 1L << 30, Duration.ZERO)) {
            assertEquals(40, a.readyAheadPages(), "the ready-ahead target is capped by the budget");
            await("40 pages faulted ahead", () -> a.readyPages() == 40);
            assertEquals(40 * MIB, a.mappedBytes(), "never more than the budget");
            List<ChunkPage> pages = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                ChunkPage page = a.tryAllocate().orElseThrow();
                assertEquals(MIB, resident(page), "page " + i + " is resident when handed out");
                pages.add(page);
            }
            assertTrue(a.tryAllocate().isEmpty(), "the 41st page would pass the budget");
            assertEquals(0, a.demandFaultedPages(), "no taker had to fault its page");
            assertEquals(40 * MIB, a.mappedBytes());
            pages.forEach(ChunkPage::release);
            assertEquals(40, a.readyPages(), "freed pages stay mapped and ready");
            assertEquals(40 * MIB, a.mappedBytes());
        }
    }

    @Test
    void awaitingTheFirstFillReturnsOnceTheReadyAheadPagesAreResident() {
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(64 * MIB, MIB, false, 16 * MIB, 24 * MIB, Duration.ZERO)) {
            assertTrue(a.awaitFirstFill(30_000_000_000L), "the first fill ends within 30 s");
            assertEquals(24, a.readyPages(), "every ready-ahead page is resident when the wait returns");
            ChunkPage page = a.tryAllocate().orElseThrow();
            assertEquals(MIB, resident(page));
            assertEquals(0, a.demandFaultedPages());
            page.release();
        }
    }

    @Test
    void awaitingTheFirstFillOfAClosedOrNonPrefaultingAllocatorReturnsAtOnce() {
        try (PinnedSlabAllocator none = new PinnedSlabAllocator(8 * MIB, MIB, false, 4 * MIB, 0, Duration.ZERO)) {
            assertTrue(none.awaitFirstFill(0), "nothing to prepare: ready");
        }
        PinnedSlabAllocator closed = new PinnedSlabAllocator(64 * MIB, MIB, false, 16 * MIB, 64 * MIB, Duration.ZERO);
        closed.close();
        assertTrue(closed.awaitFirstFill(0), "a closed allocator prepares nothing more");
    }

    @Test
    void theBackgroundThreadStopsAtItsTargetAndRefillsAfterUse() throws Exception {
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(64 * MIB, MIB, false, 16 * MIB, 8 * MIB, Duration.ZERO)) {
            await("8 pages ready", () -> a.readyPages() == 8);
            Thread.sleep(200);
            assertEquals(8, a.readyPages(), "no more than the target is faulted ahead");
            assertEquals(16 * MIB, a.mappedBytes(), "one slab mapped of the four the budget allows");
            List<ChunkPage> taken = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                taken.add(a.tryAllocate().orElseThrow());
            }
            await("refilled to 8 ready pages", () -> a.readyPages() == 8);
            ChunkPage next = a.tryAllocate().orElseThrow();
            assertEquals(MIB, resident(next));
            assertEquals(0, a.demandFaultedPages());
            taken.forEach(ChunkPage::release);
            next.release();
        }
    }

    @Test
    void withoutReadyAheadTheTakerFaultsItsOwnPage() {
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(8 * MIB, MIB, false, 4 * MIB, 0, Duration.ZERO)) {
            assertEquals(0, a.readyAheadPages());
            assertEquals(0, a.mappedBytes(), "nothing is mapped before the first page is asked for");
            ChunkPage page = a.tryAllocate().orElseThrow();
            assertEquals(MIB, resident(page), "faulted in by tryAllocate itself");
            assertEquals(1, a.demandFaultedPages());
            assertEquals(4 * MIB, a.mappedBytes());
            page.release();
            ChunkPage again = a.tryAllocate().orElseThrow();
            assertEquals(page.memory().address(), again.memory().address(), "a freed page is reused, not remapped");
            assertEquals(1, a.demandFaultedPages(), "and needs no new fault");
            again.release();
        }
    }

    @Test
    void closeDoesNotWaitForTheBackgroundThreadToFinishItsWork() throws Exception {
        // 1 GiB to fault ahead: seconds of work on a slow machine; close stops it between two steps.
        PinnedSlabAllocator a = new PinnedSlabAllocator(1L << 30, MIB, true, 64 * MIB, 1L << 30, Duration.ofSeconds(30));
        await("prefaulting under way", () -> a.readyPages() > 0);
        assertTrue(a.prefaulting());
        CountDownLatch closed = new CountDownLatch(1);
        Thread closer = Thread.ofPlatform().start(() -> {
            a.close();
            closed.countDown();
        });
        assertTrue(closed.await(PinnedSlabAllocator.PREFAULT_JOIN_MILLIS + 5_000, TimeUnit.MILLISECONDS), "close() returned");
        closer.join();
        await("the background thread ended", () -> !a.prefaulting());
        await("every slab unmapped", () -> a.mappedBytes() == 0);
        assertThrows(IllegalStateException.class, a::tryAllocate);
    }

    @Test
    void concurrentTakersNeverShareAPageNorPassTheBudget() throws Exception {
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(24 * 8192, 8192, false, 5 * 8192, 4 * 8192, Duration.ZERO)) {
            Set<Long> held = ConcurrentHashMap.newKeySet();
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (int round = 0; round < 300; round++) {
                            List<ChunkPage> mine = new ArrayList<>();
                            for (int i = 0; i < 8; i++) {
                                a.tryAllocate().ifPresent(mine::add);
                            }
                            for (ChunkPage p : mine) {
                                if (!held.add(p.memory().address())) {
                                    throw new AssertionError("page at 0x" + Long.toHexString(p.memory().address()) + " handed out twice");
                                }
                                p.memory().set(ValueLayout.JAVA_LONG, 0, round);
                            }
                            for (ChunkPage p : mine) {
                                held.remove(p.memory().address());
                                p.release();
                            }
                        }
                    } catch (Throwable e) {
                        synchronized (failures) {
                            failures.add(e);
                        }
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertEquals(List.of(), failures);
            assertEquals(0, a.outstandingPages());
            assertTrue(a.mappedBytes() <= 24 * 8192, "mapped " + a.mappedBytes());
            Set<Long> all = new HashSet<>();
            for (int i = 0; i < 24; i++) {
                all.add(a.tryAllocate().orElseThrow().memory().address());
            }
            assertEquals(24, all.size(), "every page of the budget, once");
            assertTrue(a.tryAllocate().isEmpty());
        }
    }

    @Test
    void theBackgroundThreadRunsAtTheLowestPriority() throws Exception {
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(64 * MIB, MIB, false, 16 * MIB, 64 * MIB, Duration.ZERO)) {
            assertTrue(a.prefaulting());
            List<String> nices = new ArrayList<>();
            await("the thread found in /proc", () -> {
                nices.clear();
                try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task"))) {
                    for (java.nio.file.Path task : tasks.toList()) {
                        String stat = java.nio.file.Files.readString(task.resolve("stat"));
                        if (stat.contains("(" + PinnedSlabAllocator.PREFAULT_THREAD.substring(0, 15) + ")")) {
                            nices.add(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]); // field 19: nice
                        }
                    }
                } catch (java.io.IOException e) {
                    return false; // a task ended while listed
                }
                return !nices.isEmpty() && !nices.contains("0");
            });
            assertEquals(String.valueOf(PinnedSlabAllocator.BACKGROUND_NICE), nices.getFirst());
        }
    }

    @Test
    void aRefillWaitsUntilTakersHaveBeenQuiet() throws Exception {
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(64 * MIB, MIB, false, 16 * MIB, 8 * MIB, Duration.ZERO)) {
            await("8 pages ready", () -> a.readyPages() == 8);
            long start = System.nanoTime();
            ChunkPage page = a.tryAllocate().orElseThrow();
            Thread.sleep(50);
            int readyWhileBusy = a.readyPages();
            assumeTrue(System.nanoTime() - start < PinnedSlabAllocator.QUIET_NANOS, "this thread was descheduled too long to tell");
            assertEquals(7, readyWhileBusy, "no refill within the quiet period after a take (7 of 8 ready is above a quarter)");
            await("refilled once takers were quiet", () -> a.readyPages() == 8);
            assertEquals(0, a.demandFaultedPages());
            page.release();
        }
    }
}
