package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.disk.DiskTierTest.CHUNK;
import static org.lmcache4j.storage.disk.DiskTierTest.assertServed;
import static org.lmcache4j.storage.disk.DiskTierTest.charged;
import static org.lmcache4j.storage.disk.DiskTierTest.files;
import static org.lmcache4j.testing.StorageTierContract.assertChunkBytes;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;

/**
 * The disk tier writes new chunks over old files ({@link DiskSpares}): the files of chunks removed or
 * cleared become spares (a few, inside the budget), a put writes over a spare or over the file of the
 * chunk it evicts, and the chunk read back is byte for byte what was stored, however long the file was
 * before. A removal of a chunk a reader holds deletes its file; a start deletes the spares; a put that
 * fails while writing over a spare leaves no file behind; the files on disk never exceed the budget.
 */
class DiskSpareFilesTest {

    @TempDir
    Path dir;

    private DiskTierFixture tiers;

    @BeforeEach
    void openFixture() {
        tiers = new DiskTierFixture();
    }

    @AfterEach
    void closeAll() {
        tiers.close();
    }

    private DiskTier open(long capacityBytes) {
        return tiers.open(dir, capacityBytes);
    }

    private void put(DiskTier t, int i, int sizeBytes) {
        tiers.put(t, i, sizeBytes);
    }

    private static Object inode(Path file) throws IOException {
        return Files.getAttribute(file, "unix:ino");
    }

    private Set<Object> spareInodes() throws IOException {
        Set<Object> inodes = new HashSet<>();
        for (Path p : files(dir, ".spare")) {
            inodes.add(inode(p));
        }
        return inodes;
    }

    /** Bytes of every regular file under the tier's directory (chunks, spares, the lock and identity files). */
    private long bytesOnDisk() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".kv") || p.toString().endsWith(".spare"))
                    .mapToLong(p -> p.toFile().length()).sum();
        }
    }

    @Test
    void aClearKeepsAnEighthOfTheBudgetAsSparesThatTheNextPutsWriteOver() throws IOException {
        DiskTier t = open(16 * charged(CHUNK)); // spares: at most 2 chunks' files
        for (int i = 0; i < 4; i++) {
            put(t, i, CHUNK);
        }
        t.clear();
        assertEquals(2, t.spareFiles(), "spare files after clearing four chunks");
        assertEquals(2, files(dir, ".spare").size(), "files in the spare directory");
        assertEquals(List.of(), files(dir, ".kv"), "chunk files after the clear");
        assertEquals(new TierStats("disk", 0, 0, 16 * charged(CHUNK), 0, true), t.stats(), "spares are not used bytes");
        Set<Object> spares = spareInodes();
        put(t, 10, CHUNK);
        put(t, 11, CHUNK);
        put(t, 12, CHUNK);
        assertEquals(0, t.spareFiles(), "spare files after three puts");
        assertEquals(List.of(), files(dir, ".spare"), "files in the spare directory after three puts");
        Set<Object> written = new HashSet<>();
        for (int i = 10; i <= 12; i++) {
            written.add(inode(t.pathOf(key(i)).orElseThrow()));
            assertServed(t, i, CHUNK);
        }
        assertTrue(written.containsAll(spares), "the first two puts wrote over the spares: " + written + " holds " + spares);
        assertEquals(new TierStats("disk", 3, 3 * charged(CHUNK), 16 * charged(CHUNK), 0, true), t.stats());
    }

    @Test
    void aPutThatEvictsWritesOverTheVictimsFile() throws IOException {
        DiskTier t = open(2 * charged(CHUNK));
        put(t, 0, CHUNK);
        put(t, 1, CHUNK);
        Object victim = inode(t.pathOf(key(0)).orElseThrow());
        put(t, 2, CHUNK);
        assertFalse(t.contains(key(0)), "chunk 0 is evicted");
        assertEquals(victim, inode(t.pathOf(key(2)).orElseThrow()), "chunk 2's file is chunk 0's, written over");
        assertServed(t, 1, CHUNK);
        assertServed(t, 2, CHUNK);
        assertEquals(2, files(dir, ".kv").size(), "chunk files");
        assertEquals(List.of(), files(dir, ".tmp."), "temporary files");
        assertTrue(tiers.io.maxLiveBytes() <= 2 * charged(CHUNK), "bytes on the device at most the budget: " + tiers.io.maxLiveBytes());
    }

    @Test
    void aPutWhoseVictimsFileWasDeletedBehindTheTiersBackWritesANewFile() throws IOException {
        DiskTier t = open(2 * charged(CHUNK));
        put(t, 0, CHUNK);
        put(t, 1, CHUNK);
        Files.delete(t.pathOf(key(0)).orElseThrow());
        put(t, 2, CHUNK);
        assertServed(t, 2, CHUNK);
        assertEquals(new TierStats("disk", 2, 2 * charged(CHUNK), 2 * charged(CHUNK), 0, true), t.stats());
        assertEquals(2, files(dir, ".kv").size(), "chunk files");
    }

    @Test
    void aChunkWrittenOverAFileOfAnotherLengthHasItsOwnLength() throws IOException {
        DiskTier t = open(16 * charged(CHUNK));
        put(t, 0, CHUNK);
        assertTrue(t.remove(key(0)));
        assertEquals(1, t.spareFiles(), "the removed chunk's file is a spare");
        put(t, 1, CHUNK / 4 + 3); // over a longer file: cut to its length
        Path file = t.pathOf(key(1)).orElseThrow();
        assertEquals(charged(CHUNK / 4 + 3), Files.size(file), "length of the shorter chunk's file");
        assertServed(t, 1, CHUNK / 4 + 3);
        assertTrue(t.remove(key(1)));
        put(t, 2, 2 * CHUNK); // over a shorter file: grown to its length
        assertEquals(charged(2 * CHUNK), Files.size(t.pathOf(key(2)).orElseThrow()), "length of the longer chunk's file");
        assertServed(t, 2, 2 * CHUNK);
        assertEquals(new TierStats("disk", 1, charged(2 * CHUNK), 16 * charged(CHUNK), 0, true), t.stats());
    }

    @Test
    void aRemovalOfAChunkAReaderHoldsDeletesItsFile() throws IOException {
        DiskTier t = open(16 * charged(CHUNK));
        put(t, 0, CHUNK);
        try (ChunkBuffer held = t.get(key(0)).orElseThrow()) {
            assertTrue(t.remove(key(0)));
            assertEquals(0, t.spareFiles(), "a held chunk's file is not kept to be written over");
            assertEquals(List.of(), files(dir, ".kv"), "its file is deleted");
            put(t, 1, CHUNK);
            assertChunkBytes(payload(0, CHUNK), held, "the reader's copy");
        }
        assertServed(t, 1, CHUNK);
    }

    @Test
    void aCloseDeletesTheSparesAndAStartThoseACrashLeft() throws IOException {
        DiskTier t = open(16 * charged(CHUNK));
        put(t, 0, CHUNK);
        put(t, 1, CHUNK);
        put(t, 2, CHUNK);
        assertTrue(t.remove(key(0)));
        assertEquals(1, files(dir, ".spare").size(), "the removed chunk's file is a spare");
        t.close();
        assertEquals(List.of(), files(dir, ".spare"), "spare files after the close");
        Path left = dir.resolve(DiskChunkFiles.SPARE_DIRECTORY).resolve("7.spare");
        Files.write(left, new byte[1000]); // as a crash leaves one, half written over
        DiskTier again = open(16 * charged(CHUNK));
        assertEquals(List.of(), files(dir, ".spare"), "spare files after the start");
        assertEquals(0, again.spareFiles());
        assertEquals(new TierStats("disk", 2, 2 * charged(CHUNK), 16 * charged(CHUNK), 0, true), again.stats());
        assertServed(again, 1, CHUNK);
        assertServed(again, 2, CHUNK);
    }

    @Test
    void aPutThatFailsWritingOverASpareLeavesNoFileAndReturnsItsRoom() throws IOException {
        DiskTier t = open(16 * charged(CHUNK));
        put(t, 0, CHUNK / 2);
        assertTrue(t.remove(key(0)));
        tiers.io.diskFullAfter(100); // the chunk is longer than the spare: growing it fills the disk
        assertThrows(UncheckedIOException.class, () -> put(t, 1, CHUNK));
        assertFalse(t.contains(key(1)), "the failed chunk is absent");
        assertEquals(List.of(), files(dir, ".kv"), "no chunk file");
        assertEquals(List.of(), files(dir, ".tmp."), "no temporary file");
        assertEquals(List.of(), files(dir, ".spare"), "the spare written over is gone");
        assertEquals(0, t.spareFiles());
        assertEquals(new TierStats("disk", 0, 0, 16 * charged(CHUNK), 0, false), t.stats(), "the room is returned");
        tiers.io.diskFreed();
        put(t, 1, CHUNK);
        assertServed(t, 1, CHUNK);
    }

    @Test
    void aClearWhoseRenameThrowsAnErrorStillEndsEveryRemoval() throws IOException {
        DiskTier t = open(16 * charged(CHUNK));
        for (int i = 0; i < 3; i++) {
            put(t, i, CHUNK);
        }
        tiers.io.errorOnRename(true);
        assertThrows(AssertionError.class, t::clear);
        tiers.io.errorOnRename(false);
        assertEquals(new TierStats("disk", 0, 0, 16 * charged(CHUNK), 0, true), t.stats(), "every removal ended");
        assertEquals(List.of(), files(dir, ".kv"), "the files of the chunks are deleted");
        for (int i = 0; i < 3; i++) {
            int n = i;
            assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> put(t, n, CHUNK), "put " + n + " (its key was busy)");
            assertServed(t, i, CHUNK);
        }
    }

    @Test
    void theFilesOnDiskNeverExceedTheBudgetWhateverIsStoredRemovedOrCleared() throws IOException {
        long capacity = 12 * charged(CHUNK);
        DiskTier t = open(capacity);
        Random random = new Random(42);
        List<Integer> sizes = new ArrayList<>();
        for (int step = 0; step < 600; step++) {
            int op = random.nextInt(20);
            int i = random.nextInt(40);
            if (op == 0) {
                t.clear();
            } else if (op < 6) {
                t.remove(key(i));
            } else if (!t.contains(key(i))) {
                int size = 1 + random.nextInt(2 * CHUNK);
                sizes.add(size);
                assertTrue(t.put(key(i), tiers.nativeCopy(payload(i, size))), "put " + i + " of " + size + " bytes");
                try (ChunkBuffer b = t.get(key(i)).orElseThrow()) {
                    assertChunkBytes(payload(i, size), b, "chunk " + i + " at step " + step);
                }
            }
            long onDisk = bytesOnDisk();
            assertTrue(onDisk <= capacity, "bytes on disk at step " + step + ": " + onDisk + " (expected: at most " + capacity + ")");
            assertEquals(onDisk, t.stats().usedBytes() + spareBytes(t), "chunks and spares at step " + step);
        }
        assertTrue(tiers.io.maxLiveBytes() <= capacity, "most bytes on the device at once: " + tiers.io.maxLiveBytes());
        assertTrue(sizes.size() > 100, "puts made: " + sizes.size());
    }

    private long spareBytes(DiskTier t) throws IOException {
        long bytes = 0;
        for (Path p : files(dir, ".spare")) {
            bytes += Files.size(p);
        }
        assertEquals(files(dir, ".spare").size(), t.spareFiles(), "spare files indexed and on disk");
        return bytes;
    }
}
