package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.lmcache4j.storage.disk.DiskTierTest.CHUNK;
import static org.lmcache4j.storage.disk.DiskTierTest.FINGERPRINT;
import static org.lmcache4j.storage.disk.DiskTierTest.assertServed;
import static org.lmcache4j.storage.disk.DiskTierTest.charged;
import static org.lmcache4j.storage.disk.DiskTierTest.files;
import static org.lmcache4j.testing.StorageTierContract.assertChunkBytes;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;

/**
 * The disk tier under a failing file system, through {@link FaultyDiskIo}: unusable directories are
 * refused at construction with a message naming them, a full disk fails the put and leaves no file and
 * no reservation, failing reads throw without losing the chunk, and the budget holds, in the index and
 * on disk, while threads write at once.
 */
class DiskTierFaultTest {

    private static final long AWAIT_SECONDS = 60;

    @TempDir
    Path dir;

    private final List<DiskTier> opened = new ArrayList<>();
    private final FaultyDiskIo io = new FaultyDiskIo();
    private Arena arena;

    @BeforeEach
    void openArena() {
        arena = Arena.ofShared();
    }

    @AfterEach
    void closeAll() {
        opened.forEach(DiskTier::close);
        arena.close();
    }

    private DiskTier open(Path directory, long capacityBytes) {
        DiskTier t = new DiskTier(directory, capacityBytes, FINGERPRINT, true, System::nanoTime, io);
        opened.add(t);
        return t;
    }

    private MemorySegment nativeCopy(byte[] bytes) {
        MemorySegment s = arena.allocate(Math.max(1, bytes.length), 64).asSlice(0, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, 0, bytes.length);
        return s;
    }

    private void put(DiskTier t, int i, int sizeBytes) {
        assertTrue(t.put(key(i), nativeCopy(payload(i, sizeBytes))), "put " + i);
    }

    @Test
    void readOnlyDirectoryIsRefusedAtStart() throws IOException {
        Path ro = Files.createDirectories(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(ro),
                    "running as root, where permissions are not enforced; readOnlyFileSystemIsRefusedAtStart simulates it");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new DiskTier(ro, charged(CHUNK), FINGERPRINT));
            assertTrue(e.getMessage().startsWith("disk tier directory " + ro + ": not writable: "), e.getMessage());
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void readOnlyFileSystemIsRefusedAtStart() throws IOException {
        Path existing = Files.createDirectories(dir.resolve("existing"));
        Path missing = dir.resolve("missing");
        io.readOnly(true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> open(existing, charged(CHUNK)));
        assertEquals("disk tier directory " + existing + ": not writable: java.nio.file.FileSystemException: "
                + existing.resolve(DiskDirectoryLock.LOCK_FILE) + ": Read-only file system (FaultyDiskIo)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> open(missing, charged(CHUNK)));
        assertEquals("disk tier directory " + missing + ": cannot be created: java.nio.file.FileSystemException: "
                + missing + ": Read-only file system (FaultyDiskIo)", e.getMessage());
        io.readOnly(false);
        put(open(existing, charged(CHUNK)), 1, CHUNK); // the refused starts left nothing locked
    }

    @Test
    void regularFileIsRefusedAsTheDirectory() throws IOException {
        Path file = Files.writeString(dir.resolve("cache"), "a file");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DiskTier(file, charged(CHUNK), FINGERPRINT));
        assertEquals("disk tier directory " + file + ": not a directory (a file of that name exists)", e.getMessage());
        assertEquals("a file", Files.readString(file), "the file is left as it was");
    }

    @Test
    void secondTierOnTheSameDirectoryIsRefused() throws IOException {
        DiskTier first = open(dir, charged(CHUNK));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DiskTier(dir, charged(CHUNK), FINGERPRINT));
        assertEquals("disk tier directory " + dir + ": in use by another disk tier of this process (" + dir.toRealPath() + ")",
                e.getMessage());
        first.close();
        put(open(dir, charged(CHUNK)), 1, CHUNK);
    }

    @Test
    void badArgumentsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DiskTier(dir, 0, FINGERPRINT));
        assertEquals("capacityBytes: 0 (expected: > 0)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DiskTier(dir, charged(CHUNK), "kv-layout/1"));
        assertEquals("layoutFingerprint: 'kv-layout/1' (expected: 16 hex digits, as KvLayout.fingerprint() returns)", e.getMessage());
    }

    @Test
    void readOnlyFileSystemAfterStartFailsPutsAndServesChunks() throws IOException {
        DiskTier t = open(dir, 4 * charged(CHUNK));
        put(t, 1, CHUNK);
        TierStats before = t.stats();
        io.readOnly(true);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> t.put(key(2), nativeCopy(payload(2, CHUNK))));
        assertTrue(e.getCause().getMessage().contains("Read-only file system"), e.getCause().getMessage());
        assertEquals(new TierStats("disk", 1, before.usedBytes(), before.capacityBytes(), 0, false), t.stats());
        assertServed(t, 1, CHUNK);
        assertTrue(t.stats().healthy(), "healthy again after an I/O operation worked");
        io.readOnly(false);
        put(t, 2, CHUNK);
        assertServed(t, 2, CHUNK);
    }

    @Test
    void diskFullFailsThePutAndLeavesNothingBehind() throws IOException {
        DiskTier t = open(dir, 8 * charged(CHUNK));
        put(t, 0, CHUNK);
        put(t, 1, CHUNK / 2);
        TierStats before = t.stats();
        io.diskFullAfter(1000);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> t.put(key(2), nativeCopy(payload(2, CHUNK))));
        assertEquals("No space left on device (FaultyFileChannel)", e.getCause().getMessage());
        assertTrue(e.getMessage().startsWith("disk tier " + dir + ": put " + key(2) + " (" + charged(CHUNK) + " bytes) failed"),
                e.getMessage());
        assertEquals(List.of(), files(dir, ".tmp."), "temporary files after the failed put");
        assertEquals(2, files(dir, ".kv").size(), "chunk files after the failed put");
        assertEquals(before.usedBytes(), t.stats().usedBytes(), "usedBytes after the failed put");
        assertEquals(2, t.stats().chunks(), "chunks after the failed put");
        assertFalse(t.stats().healthy(), "unhealthy after a failed write");
        assertFalse(t.contains(key(2)), "the failed chunk is absent");
        assertServed(t, 0, CHUNK);
        assertServed(t, 1, CHUNK / 2);
        io.diskFreed();
        put(t, 2, CHUNK);
        assertServed(t, 2, CHUNK);
        assertEquals(new TierStats("disk", 3, before.usedBytes() + charged(CHUNK), before.capacityBytes(), 0, true), t.stats());
    }

    @Test
    void diskFullAfterEvictingKeepsTheBudgetExact() throws IOException {
        DiskTier t = open(dir, 2 * charged(CHUNK));
        put(t, 0, CHUNK / 2); // the victim: its file is written over, and must grow by half a chunk
        put(t, 1, CHUNK);
        io.diskFullAfter(100);
        assertThrows(UncheckedIOException.class, () -> t.put(key(2), nativeCopy(payload(2, CHUNK))));
        assertFalse(t.contains(key(0)), "the victim was evicted before the write failed");
        assertEquals(new TierStats("disk", 1, charged(CHUNK), 2 * charged(CHUNK), 0, false), t.stats());
        assertEquals(1, files(dir, ".kv").size(), "one chunk file left");
        assertEquals(List.of(), files(dir, ".tmp."), "temporary files");
        io.diskFreed();
        put(t, 2, CHUNK);
        put(t, 3, CHUNK);
        assertServed(t, 3, CHUNK);
    }

    @Test
    void aFullDiskStillTakesAChunkWrittenOverTheFileItEvicts() throws IOException {
        DiskTier t = open(dir, 2 * charged(CHUNK));
        put(t, 0, CHUNK);
        put(t, 1, CHUNK);
        io.diskFullAfter(0);
        put(t, 2, CHUNK); // evicts chunk 0 and writes over its file: no new room on the device
        assertFalse(t.contains(key(0)), "the victim is evicted");
        assertServed(t, 1, CHUNK);
        assertServed(t, 2, CHUNK);
        assertEquals(new TierStats("disk", 2, 2 * charged(CHUNK), 2 * charged(CHUNK), 0, true), t.stats());
        assertEquals(2, files(dir, ".kv").size(), "chunk files");
        assertTrue(io.maxLiveBytes() <= 2 * charged(CHUNK), "bytes on the device: " + io.maxLiveBytes());
    }

    @Test
    void failingReadsThrowAndKeepTheChunk() {
        DiskTier t = open(dir, 4 * charged(CHUNK));
        put(t, 1, CHUNK);
        io.failReads(true);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> t.get(key(1)));
        assertEquals("disk tier " + dir + ": get " + key(1) + " failed", e.getMessage());
        assertFalse(t.stats().healthy(), "unhealthy while reads fail");
        assertTrue(t.contains(key(1)), "an unreadable chunk is kept: the failure may pass");
        io.failReads(false);
        assertServed(t, 1, CHUNK);
        assertEquals(new TierStats("disk", 1, charged(CHUNK), 4 * charged(CHUNK), 0, true), t.stats());
        assertEquals(0, t.corruptChunks(), "an I/O failure is not corruption");
        put(t, 2, CHUNK);
        put(t, 3, CHUNK);
        put(t, 4, CHUNK);
        put(t, 5, CHUNK);
        assertFalse(t.contains(key(1)), "the failed read held the chunk no longer");
    }

    @Test
    void budgetIsNeverExceededUnderConcurrentWriters() throws Exception {
        long capacity = 12 * charged(CHUNK);
        DiskTier t = open(dir, capacity);
        int threads = 4;
        int putsPerThread = 60;
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean done = new AtomicBoolean();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        pool.execute(() -> {
            while (!done.get()) {
                TierStats s = t.stats();
                if (s.usedBytes() > s.capacityBytes()) {
                    failures.add("usedBytes > capacityBytes: " + s);
                }
            }
        });
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            int first = w * 1000;
            writers.add(pool.submit(() -> {
                start.await();
                for (int i = first; i < first + putsPerThread; i++) {
                    if (!t.put(key(i), nativeCopy(payload(i, sizeOf(i))))) {
                        failures.add("put " + i + " refused with nothing pinned or held");
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (var f : writers) {
            f.get(AWAIT_SECONDS, TimeUnit.SECONDS);
        }
        done.set(true);
        pool.shutdown();
        assertTrue(pool.awaitTermination(AWAIT_SECONDS, TimeUnit.SECONDS), "sampler stopped");
        assertEquals(List.of(), List.copyOf(failures));
        assertTrue(io.maxLiveBytes() <= capacity, "bytes on disk reached " + io.maxLiveBytes() + " > capacity " + capacity);
        long onDisk = 0;
        for (Path p : files(dir, ".kv")) {
            onDisk += Files.size(p);
        }
        TierStats s = t.stats();
        assertEquals(onDisk, s.usedBytes(), "usedBytes equals the chunk files' length on disk");
        assertEquals(files(dir, ".kv").size(), s.chunks(), "one file per chunk");
        assertEquals(List.of(), files(dir, ".tmp."), "temporary files");
        int present = 0;
        for (int w = 0; w < threads; w++) {
            for (int i = w * 1000; i < w * 1000 + putsPerThread; i++) {
                Optional<ChunkBuffer> got = t.get(key(i));
                if (got.isPresent()) {
                    present++;
                    try (ChunkBuffer b = got.get()) {
                        assertChunkBytes(payload(i, sizeOf(i)), b, "chunk " + i);
                    }
                }
            }
        }
        assertEquals(s.chunks(), present, "chunks served");
    }

    private static int sizeOf(int i) {
        return CHUNK / 2 + (i * 997) % (CHUNK / 2);
    }

    @Test
    void concurrentPutsOfOneKeyWriteOneFile() throws Exception {
        DiskTier t = open(dir, 32 * charged(CHUNK));
        int threads = 4;
        int keys = 20;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            writers.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < keys; i++) {
                    assertTrue(t.put(key(i), nativeCopy(payload(i, CHUNK))), "put " + i);
                }
                return null;
            }));
        }
        start.countDown();
        for (var f : writers) {
            f.get(AWAIT_SECONDS, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(new TierStats("disk", keys, keys * charged(CHUNK), 32 * charged(CHUNK), 0, true), t.stats());
        assertEquals(keys, files(dir, ".kv").size(), "chunk files");
        assertEquals(List.of(), files(dir, ".tmp."), "temporary files");
        for (int i = 0; i < keys; i++) {
            assertServed(t, i, CHUNK);
        }
    }
}
