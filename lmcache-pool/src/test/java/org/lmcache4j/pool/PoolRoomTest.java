package org.lmcache4j.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvConnector;

/**
 * A pool that does not fit in its file system (a container's {@code /dev/shm} is 64 MiB unless sized) is refused with
 * the sizes in the message and leaves nothing behind: before, the coordinator faulted the pages of a sparse file in,
 * took a SIGBUS when the file system filled up, and left a temporary file holding all of its shared memory.
 */
class PoolRoomTest {

    @TempDir
    Path dir;

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".pool")).toList();
        }
    }

    @Test
    void aPoolLargerThanTheFreeSpaceIsRefusedWithItsSizesAndLeavesNothing() throws IOException {
        long slot = 1L << 30;
        int slots = (int) (Files.getFileStore(dir).getUsableSpace() / slot) + 2;
        IOException e = assertThrows(IOException.class, () -> PoolFile.create(dir.resolve("p.pool"), "p", slot, slots));
        assertTrue(e.getMessage().contains(PoolFile.fileBytes(slot, slots) + " bytes of shared memory needed"), e.getMessage());
        assertTrue(e.getMessage().contains("--shm-size"), e.getMessage());
        assertEquals(List.of(), files());
    }

    @Test
    void aTemporaryFileAKilledCoordinatorLeftIsDeletedWhenThePoolIsCreated() throws IOException {
        Path stale = dir.resolve("p.pool.tmp-999999999");
        Files.write(stale, new byte[1 << 20]);
        try (PoolFile f = PoolFile.create(dir.resolve("p.pool"), "p", 4096, 4)) {
            assertEquals(4, f.slotCount());
        }
        assertEquals(List.of("p.pool"), files(), "one pool file, nothing else holding shared memory");
    }

    @Test
    void anEngineWhosePoolDoesNotFitServesMissesAndTheDirectoryHoldsNoPool() throws IOException {
        long free = Files.getFileStore(dir).getUsableSpace();
        String url = "pool://" + dir.toUri().getRawPath() + "?size=" + (free + (4L << 30));
        try (Arena arena = Arena.ofShared(); KvConnector engine = PoolEngines.open(url)) {
            PoolEngines.Prompt p = PoolEngines.Prompt.of(arena, 5, 2, true);
            assertEquals(0, engine.store(p.tokens(), p.kv(), p.slots()), "nothing stored: there is no pool");
            assertEquals(0, engine.lookup(p.tokens()));
            assertFalse(engine.stats().tiers().getFirst().healthy(), "the pool tier shows unhealthy");
        }
        assertEquals(List.of(), files());
    }
}
