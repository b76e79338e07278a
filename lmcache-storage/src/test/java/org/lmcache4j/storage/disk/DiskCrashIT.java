package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.lmcache4j.storage.disk.DiskTierChild.CHUNK_BYTES;
import static org.lmcache4j.testing.StorageTierContract.assertChunkBytes;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.spi.ChunkBuffer;

/**
 * A writer killed with SIGKILL in the middle of its writes leaves only whole chunks: a child JVM puts
 * seeded chunks in a tight loop with fsync on, reporting each, and is killed after at least 30; the
 * directory is then opened here. Every chunk reported stored is present and byte-exact, a chunk in flight
 * at the kill is either absent or byte-exact, no file is corrupt, and no temporary file survives the
 * reopen. Three rounds on the same directory, each killing at a different count.
 */
class DiskCrashIT {

    private static final int ROUNDS = 3;
    private static final int MIN_STORED = 30;
    private static final long CHILD_SECONDS = 120;
    private static final String END = "\0end";

    @TempDir
    Path dir;

    @Test
    void killedWriterLeavesOnlyWholeChunks() throws Exception {
        List<Integer> storedBefore = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            int first = round * 100_000;
            List<Integer> stored = writeAndKill(first, MIN_STORED + 7 * round);
            storedBefore.addAll(stored);
            int leftByTheKill = DiskTierTest.files(dir, ".tmp.").size(); // 0 or 1, as the kill falls
            try (DiskTier tier = new DiskTier(dir, DiskTierChild.CAPACITY_BYTES, DiskTierTest.FINGERPRINT)) {
                String where = "round " + round + " (" + stored.size() + " chunks reported stored before the kill, "
                        + leftByTheKill + " temporary files left by it)";
                assertEquals(List.of(), DiskTierTest.files(dir, ".tmp."), "temporary files after the reopen, " + where);
                for (int i : storedBefore) {
                    Optional<ChunkBuffer> got = tier.get(key(i));
                    assertTrue(got.isPresent(), "chunk " + i + " reported stored is present, " + where);
                    try (ChunkBuffer b = got.get()) {
                        assertChunkBytes(payload(i, CHUNK_BYTES), b, "chunk " + i + ", " + where);
                    }
                }
                int inFlight = stored.getLast() + 1; // the put under way at the kill: all or nothing
                Optional<ChunkBuffer> maybe = tier.get(key(inFlight));
                if (maybe.isPresent()) {
                    try (ChunkBuffer b = maybe.get()) {
                        assertChunkBytes(payload(inFlight, CHUNK_BYTES), b, "chunk " + inFlight + " in flight, " + where);
                    }
                }
                long chunks = tier.stats().chunks();
                assertTrue(chunks >= storedBefore.size() && chunks <= storedBefore.size() + round + 1,
                        chunks + " chunks indexed (expected: the " + storedBefore.size() + " stored, plus at most one in flight"
                                + " per round), " + where);
                assertEquals(0, tier.corruptChunks(), "corrupt files (a file is renamed only when whole), " + where);
            }
        }
    }

    /** Runs a looping writer from chunk {@code first}, kills it after {@code killAfter} reports, returns all it reported. */
    private List<Integer> writeAndKill(int first, int killAfter) throws Exception {
        Process p = DiskTierChild.start("loop", dir.toString(), Integer.toString(first));
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofPlatform().daemon().name("crash-it-reader").start(() -> {
            try (BufferedReader r = p.inputReader()) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                }
            } catch (IOException endOfPipe) {
                // the child is gone
            } finally {
                lines.add(END);
            }
        });
        List<Integer> stored = new ArrayList<>();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CHILD_SECONDS);
            while (stored.size() < killAfter) {
                String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertNotNull(line, "writer reported " + stored.size() + " chunks within " + CHILD_SECONDS + " s");
                if (line.equals(END)) {
                    fail("writer ended after " + stored.size() + " chunks (exit status "
                            + (p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : "none") + ")");
                }
                stored.add(parse(line));
            }
        } finally {
            p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no close
            assertTrue(p.waitFor(CHILD_SECONDS, TimeUnit.SECONDS), "killed writer ended");
        }
        assertNotEquals(0, p.exitValue(), "the writer was killed, it did not finish");
        reader.join(TimeUnit.SECONDS.toMillis(CHILD_SECONDS));
        for (String line = lines.poll(); line != null && !line.equals(END); line = lines.poll()) {
            stored.add(parse(line)); // reported before the kill, read after it
        }
        for (int i = 0; i < stored.size(); i++) {
            assertEquals(first + i, stored.get(i), "reports in order");
        }
        return stored;
    }

    private static int parse(String line) {
        if (!line.startsWith("stored ")) {
            throw new AssertionError("writer printed '" + line + "' (expected: stored <i>)");
        }
        return Integer.parseInt(line.substring("stored ".length()));
    }
}
