package org.lmcache4j.storage.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pages faulted in and locked one batch at a time keep their huge pages: {@code mlock} splits the mapping
 * at the ends of the range it locks, and a 2 MiB region cut by a split cannot be a huge page. Locking
 * page by page, with pages that do not end on a 2 MiB boundary, lost one region per page boundary (the
 * demo's cpu tier had 204 of 247 MiB of each slab in huge pages). Needs transparent huge pages for
 * advised memory and a locked-memory limit the test's pages fit in (root, or a raised {@code ulimit -l}).
 */
class HugePagesUnderMlockTest {

    private static final long MIB = 1L << 20;
    private static final long HUGE = 2 * MIB;
    /** Pages of 3 MiB + 4 KiB: almost every boundary between two of them falls inside a 2 MiB region. */
    private static final long PAGE = 3 * MIB + 4096;
    private static final int PAGES = 20;

    @Test
    void everyWhole2MiBRegionOfALockedSlabIsAHugePage() throws IOException {
        assumeTrue(hugePagesForAdvisedMemory(), "transparent huge pages are off on this machine");
        try (PinnedSlabAllocator a = new PinnedSlabAllocator(PAGES * PAGE, PAGE, true, PAGES * PAGE, PAGES * PAGE, Duration.ZERO)) {
            assertTrue(a.awaitFirstFill(30_000_000_000L));
            assumeTrue(lockedBytes() >= PAGES * PAGE - HUGE, "the locked-memory limit refused the pages: nothing was locked");
            List<ChunkPage> pages = new ArrayList<>();
            for (int i = 0; i < PAGES; i++) {
                pages.add(a.tryAllocate().orElseThrow());
            }
            long start = pages.stream().mapToLong(p -> p.memory().address()).min().orElseThrow();
            long end = start + PAGES * PAGE;
            long whole = (Math.floorDiv(end, HUGE) - Math.ceilDiv(start, HUGE)) * HUGE;
            long huge = hugeBytesBetween(start, end);
            assertTrue(huge >= whole - HUGE, "huge-page bytes of the slab: " + huge / MIB + " MiB of the " + whole / MIB
                    + " MiB in whole 2 MiB regions (one region may miss: the machine's own state)");
            pages.forEach(ChunkPage::release);
        }
    }

    private static boolean hugePagesForAdvisedMemory() throws IOException {
        Path enabled = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        return Files.isReadable(enabled) && !Files.readString(enabled).contains("[never]");
    }

    private static long lockedBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmLck:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }

    /** AnonHugePages of the mappings inside [start, end), from {@code /proc/self/smaps}. */
    private static long hugeBytesBetween(long start, long end) throws IOException {
        long huge = 0;
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                long from = Long.parseUnsignedLong(range[0], 16);
                long to = Long.parseUnsignedLong(range[1], 16);
                inside = from < end && to > start;
            } else if (inside && line.startsWith("AnonHugePages:")) {
                huge += Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return huge;
    }
}
