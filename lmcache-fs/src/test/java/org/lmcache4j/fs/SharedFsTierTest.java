package org.lmcache4j.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.api.spi.TierRefusedException;
import org.lmcache4j.storage.tier.ChunkFileNames;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.testing.StorageTierContract;

/**
 * What the fs tier does beyond the contract, as two engines on one directory see it (two tiers in one
 * process stand for two processes: they share nothing but the directory): no lock, each other's chunks,
 * torn and foreign files as misses that are deleted, another identity's directory refused, and the sweep
 * (other engines' files adopted, the budget kept oldest first, vanished files forgotten, stale temporary
 * files deleted and fresh ones kept).
 */
class SharedFsTierTest {

    private static final int CHUNK = 8 * 1024;
    private static final long FILE_BYTES = DiskChunkFormat.fileBytes(CHUNK);

    @TempDir
    Path root;

    private final List<SharedFsTier> opened = new ArrayList<>();
    private Arena arena;

    @BeforeEach
    void openArena() {
        arena = Arena.ofShared();
    }

    @AfterEach
    void close() {
        opened.forEach(SharedFsTier::close);
        arena.close();
    }

    private SharedFsTier open(String options) {
        SharedFsTier t = FsTiers.open(FsTiers.url(root, options + "&sweepMillis=0"), CHUNK);
        opened.add(t);
        return t;
    }

    private MemorySegment payload(int i) {
        byte[] b = StorageTierContract.payload(i, CHUNK);
        return arena.allocate(CHUNK).copyFrom(MemorySegment.ofArray(b));
    }

    private static ChunkKey key(int i) {
        return StorageTierContract.key(i);
    }

    private static void assertHolds(SharedFsTier t, int i) {
        try (ChunkBuffer b = t.get(key(i)).orElseThrow(() -> new AssertionError("chunk " + i + ": miss"))) {
            StorageTierContract.assertChunkBytes(StorageTierContract.payload(i, CHUNK), b, "chunk " + i);
        }
    }

    @Test
    void twoEnginesOpenOneDirectoryAtOnceAndReadEachOthersChunks() {
        SharedFsTier a = open("capacity=1m");
        SharedFsTier b = open("capacity=1m");
        assertTrue(a.put(key(1), payload(1)));
        assertTrue(b.put(key(2), payload(2)));
        assertTrue(b.contains(key(1)));
        assertHolds(b, 1);
        assertHolds(a, 2);
        assertTrue(a.put(key(2), payload(2)), "a put of a chunk another engine stored is a success");
        assertEquals(1, a.stats().chunks(), "the chunk another engine stored is not counted again by a put");
    }

    @Test
    void aTornFileUnderAFinalNameIsAMissAndIsDeleted() throws Exception {
        SharedFsTier writer = open("capacity=1m");
        SharedFsTier reader = open("capacity=1m");
        assertTrue(writer.put(key(1), payload(1)));
        Path file = writer.directory().resolve(key(1).toString().substring(0, 2)).resolve(key(1) + ".kv");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(FILE_BYTES - 1); // as a non-atomic file system could show a half-written file
        }
        List<ChunkKey> corrupt = new ArrayList<>();
        reader.onCorruption(corrupt::add);
        assertTrue(reader.get(key(1)).isEmpty(), "a torn file is a miss");
        assertEquals(List.of(key(1)), corrupt, "reported as corrupt");
        assertFalse(Files.exists(file), "and deleted");
        assertTrue(writer.put(key(1), payload(1)), "the writer, whose view still holds it, writes it again");
        assertHolds(reader, 1);
    }

    @Test
    void aFileWithAFlippedPayloadByteOrAnotherKeyIsNeverServed() throws Exception {
        SharedFsTier t = open("capacity=1m");
        assertTrue(t.put(key(1), payload(1)));
        assertTrue(t.put(key(2), payload(2)));
        Path one = t.directory().resolve(key(1).toString().substring(0, 2)).resolve(key(1) + ".kv");
        Path two = t.directory().resolve(key(2).toString().substring(0, 2)).resolve(key(2) + ".kv");
        try (FileChannel ch = FileChannel.open(one, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {42}), DiskChunkFormat.PAYLOAD_OFFSET + 100);
        }
        Files.copy(one, two, java.nio.file.StandardCopyOption.REPLACE_EXISTING); // key 1's file under key 2's name
        assertEquals(-1, t.readInto(key(1), arena.allocate(CHUNK)), "a flipped byte is a miss");
        assertTrue(t.get(key(2)).isEmpty(), "a file holding another key is a miss");
        assertFalse(Files.exists(one) || Files.exists(two), "both deleted");
        assertEquals(0, t.stats().chunks(), "and forgotten");
    }

    @Test
    void aDirectoryRecordedForAnotherIdentityIsRefusedAndLeftAlone() throws Exception {
        SharedFsTier ours = open("capacity=1m");
        assertTrue(ours.put(key(1), payload(1)));
        ours.close();
        Path record = ours.directory().resolve(SharedIdentityRecord.FILE_NAME);
        CacheIdentity other = new CacheIdentity(new CacheNamespace("another-model", FsTiers.FINGERPRINT, "", 0, 1), 256,
                HashAlgorithm.SHA_256);
        Files.writeString(record, other.describe());
        TierRefusedException e = assertThrows(TierRefusedException.class,
                () -> StorageTiers.open(FsTiers.url(root, "capacity=1m"), FsTiers.IDENTITY, new TierOptions(CHUNK, 0)));
        assertTrue(e.getMessage().contains("model_id: 'another-model' -> 'fs-model'"), e.getMessage());
        assertEquals(other.describe(), Files.readString(record), "the record is left as it was");
        assertEquals(1, chunkFiles(ours.directory()), "its chunks too");
    }

    @Test
    void aSweepAdoptsOtherEnginesFilesAndEvictsTheOldestToTheBudget() throws Exception {
        SharedFsTier writer = open("capacity=1m");
        for (int i = 0; i < 6; i++) {
            assertTrue(writer.put(key(i), payload(i)));
            // file times say in which order they were last used: 5 oldest, then 4, ... 0 newest
            Files.setLastModifiedTime(file(writer, i), FileTime.fromMillis(System.currentTimeMillis() - 60_000L * (i + 1)));
        }
        SharedFsTier sweeper = open("capacity=" + 3 * FILE_BYTES);
        List<ChunkKey> evicted = new ArrayList<>();
        sweeper.onEviction(evicted::add);
        SharedDirectorySweep.Result r = sweeper.sweep();
        assertEquals(new SharedDirectorySweep.Result(6, 6, 0, 3, 0), r);
        assertEquals(List.of(key(5), key(4), key(3)), evicted, "the three least recently used, oldest first");
        for (int i = 0; i < 3; i++) {
            assertHolds(sweeper, i);
        }
        assertEquals(3, sweeper.stats().chunks());
        assertEquals(3 * FILE_BYTES, sweeper.stats().usedBytes());
        // the writer learns of the deletions at its own next sweep
        assertEquals(new SharedDirectorySweep.Result(3, 0, 3, 0, 0), writer.sweep());
        assertEquals(3 * FILE_BYTES, writer.stats().usedBytes());
    }

    @Test
    void aSweepNeverDeletesAChunkItsEnginePinsOrReads() throws Exception {
        SharedFsTier writer = open("capacity=1m");
        for (int i = 0; i < 4; i++) {
            assertTrue(writer.put(key(i), payload(i)));
            Files.setLastModifiedTime(file(writer, i), FileTime.fromMillis(System.currentTimeMillis() - 60_000L * (4 - i)));
        }
        SharedFsTier sweeper = open("capacity=" + FILE_BYTES);
        sweeper.sweep(); // learns the four; keeps the newest, 3
        assertEquals(List.of(3), present(writer, 4));
        for (int i = 0; i < 3; i++) {
            assertTrue(writer.put(key(i), payload(i)));
            Files.setLastModifiedTime(file(writer, i), FileTime.fromMillis(System.currentTimeMillis() - 1000L * (3 - i)));
        }
        sweeper.sweep(); // the three written again are newer than 3 now: it keeps 2, the newest
        assertEquals(List.of(2), present(writer, 4));
        assertTrue(writer.put(key(0), payload(0)));
        assertTrue(writer.put(key(1), payload(1)));
        assertTrue(sweeper.pin(key(0), java.time.Duration.ofMinutes(5)));
        try (ChunkBuffer held = sweeper.get(key(1)).orElseThrow()) {
            SharedDirectorySweep.Result r = sweeper.sweep();
            assertEquals(List.of(0, 1), present(writer, 4), "pinned 0 and held 1 stay, over budget; 2 goes");
            assertEquals(1, r.evicted());
            StorageTierContract.assertChunkBytes(StorageTierContract.payload(1, CHUNK), held, "held chunk");
        }
    }

    private static List<Integer> present(SharedFsTier t, int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (t.contains(key(i))) {
                out.add(i);
            }
        }
        return out;
    }

    @Test
    void aReadMakesAChunkYoungerForEveryEnginesSweep() throws Exception {
        SharedFsTier writer = open("capacity=1m");
        for (int i = 0; i < 3; i++) {
            assertTrue(writer.put(key(i), payload(i)));
            Files.setLastModifiedTime(file(writer, i), FileTime.fromMillis(System.currentTimeMillis() - 60_000L * (3 - i)));
        }
        SharedFsTier reader = open("capacity=1m&touchMillis=1000");
        assertHolds(reader, 0); // the oldest, read by another engine: its file time is renewed
        SharedFsTier sweeper = open("capacity=" + 2 * FILE_BYTES);
        List<ChunkKey> evicted = new ArrayList<>();
        sweeper.onEviction(evicted::add);
        sweeper.sweep();
        assertEquals(List.of(key(1)), evicted, "the least recently used after the read");
    }

    @Test
    void aSweepDeletesStaleTemporaryFilesAndKeepsFreshOnes() throws Exception {
        SharedFsTier t = open("capacity=1m&staleTempMillis=60000");
        assertTrue(t.put(key(1), payload(1)));
        Path shard = file(t, 1).getParent();
        Path stale = SharedChunkFiles.tempFor(file(t, 2));
        Path fresh = SharedChunkFiles.tempFor(file(t, 3));
        Files.createDirectories(stale.getParent());
        Files.createDirectories(fresh.getParent());
        Files.write(stale, new byte[100]);
        Files.write(fresh, new byte[100]);
        Files.setLastModifiedTime(stale, FileTime.fromMillis(System.currentTimeMillis() - 120_000));
        assertTrue(stale.getFileName().toString().contains("." + ProcessHandle.current().pid() + "."), stale.toString());
        assertEquals(1, t.sweep().staleTempsDeleted());
        assertFalse(Files.exists(stale), "stale temporary file");
        assertTrue(Files.exists(fresh), "a temporary file younger than staleTempMillis is a write in flight");
        assertTrue(Files.exists(file(t, 1)));
        assertEquals(1, t.stats().chunks(), "temporary files are not chunks");
        assertTrue(Files.isDirectory(shard));
    }

    @Test
    void tempNamesDifferPerWriteSoConcurrentWritersOfOneChunkNeverShareOne() {
        Path target = root.resolve("ab").resolve("ab.kv");
        assertFalse(SharedChunkFiles.tempFor(target).equals(SharedChunkFiles.tempFor(target)));
        assertTrue(ChunkFileNames.isTemp(SharedChunkFiles.tempFor(target)));
        assertTrue(ChunkFileNames.keyOf(SharedChunkFiles.tempFor(target)).isEmpty(), "a temporary file is no chunk");
        assertTrue(ChunkFileNames.keyOf(root.resolve(".nfs000000000123")).isEmpty(), "nor is an NFS silly-rename file");
    }

    @Test
    void urlsNameWhatIsWrong() {
        assertThrows(IllegalArgumentException.class, () -> SharedFsUrl.parse("fs:///mnt/kv"), "no capacity");
        assertThrows(IllegalArgumentException.class, () -> SharedFsUrl.parse("fs://relative?capacity=1g"));
        assertThrows(IllegalArgumentException.class, () -> SharedFsUrl.parse("fs:///mnt/kv?capacity=1g&size=2"));
        assertThrows(IllegalArgumentException.class, () -> SharedFsUrl.parse("fs:///mnt/kv?capacity=1g&fsync=maybe"));
        assertThrows(IllegalArgumentException.class, () -> SharedFsUrl.parse("fs:///mnt/kv?capacity=0"));
        assertThrows(IllegalArgumentException.class, () -> SharedFsUrl.parse("fs:///mnt/kv?capacity=1g&sweepMillis=-1"));
        assertEquals(0, SharedFsUrl.parse("fs:///mnt/kv?capacity=1g&sweepMillis=0").sweepMillis(), "0: no sweeps of its own");
        SharedFsUrl u = SharedFsUrl.parse("shared+file:///mnt/kv%20a?capacity=2g&sweepMillis=5000&staleTempMillis=1&touchMillis=0&fsync=false"
                + "&codec=shuffle+zstd");
        assertEquals(new SharedFsUrl(u.text(), Path.of("/mnt/kv a"), 2L << 30, 5000, 1, 0, false, "shuffle+zstd"), u);
        assertEquals(new SharedFsUrl("fs:///x?capacity=1k", Path.of("/x"), 1024, SharedFsUrl.DEFAULT_SWEEP_MILLIS,
                SharedFsUrl.DEFAULT_STALE_TEMP_MILLIS, SharedFsUrl.DEFAULT_TOUCH_MILLIS, true, null), SharedFsUrl.parse("fs:///x?capacity=1k"));
    }

    private static Path file(SharedFsTier t, int i) {
        return t.directory().resolve(key(i).toString().substring(0, 2)).resolve(key(i) + ".kv");
    }

    private static long chunkFiles(Path dir) throws Exception {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(f -> ChunkFileNames.keyOf(f).isPresent()).count();
        }
    }
}
