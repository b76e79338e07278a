package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk tier survives a process restart: one JVM stores 20 seeded chunks and exits, a second JVM
 * opens the same directory and reads them, and every chunk is byte-exact (compared through CRC32 with
 * the content computed here).
 */
class DiskRestartIT {

    private static final int CHUNKS = 20;
    private static final long CHILD_SECONDS = 120;

    @TempDir
    Path dir;

    @Test
    void chunksStoredByOneProcessAreServedByTheNext() throws Exception {
        List<String> stored = run("put", dir.toString(), "0", Integer.toString(CHUNKS));
        assertEquals(IntStream.range(0, CHUNKS).mapToObj(i -> "stored " + i).toList(), stored, "writer output");
        List<String> read = run("crc", dir.toString(), "0", Integer.toString(CHUNKS));
        assertEquals(IntStream.range(0, CHUNKS).mapToObj(i -> i + " " + DiskTierChild.expectedCrc(i)).toList(), read,
                "CRC32 of each chunk read by the second process");
    }

    private static List<String> run(String... args) throws Exception {
        return DiskTierChild.run(CHILD_SECONDS, args);
    }
}
