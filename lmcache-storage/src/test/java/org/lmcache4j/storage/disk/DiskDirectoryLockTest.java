package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The directory lock within one JVM: a second acquire of a held directory, by any spelling of its path,
 * is refused without opening the lock file (closing a channel on it would drop the holder's lock, see
 * {@link DiskDirectoryLockIT}), and a failed or closed acquire leaves the directory free.
 */
class DiskDirectoryLockTest {

    @TempDir
    Path dir;

    private final FaultyDiskIo io = new FaultyDiskIo();

    @Test
    void aSecondAcquireInThisJvmNeverOpensTheLockFile() throws Exception {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        Path dotDot = real.resolve("..").resolve("real");
        try (DiskDirectoryLock _ = DiskDirectoryLock.acquire(real, io)) {
            assertEquals(1, io.opens(real.resolve(DiskDirectoryLock.LOCK_FILE)), "opens of the lock file by the holder");
            for (Path p : List.of(real, link, dotDot)) {
                Path lockFile = p.resolve(DiskDirectoryLock.LOCK_FILE);
                int opensBefore = io.opens(lockFile);
                DiskDirectoryBusyException e = assertThrows(DiskDirectoryBusyException.class, () -> DiskDirectoryLock.acquire(p, io));
                assertEquals(opensBefore, io.opens(lockFile), "opens of " + lockFile + " by the refused acquire");
                assertEquals("disk tier directory " + p + ": in use by another disk tier of this process (" + real.toRealPath()
                        + ")", e.getMessage());
            }
        }
    }

    @Test
    void aFailedAcquireLeavesTheDirectoryFree() throws Exception {
        Files.createDirectories(dir);
        io.readOnly(true);
        assertThrows(IllegalArgumentException.class, () -> DiskDirectoryLock.acquire(dir, io));
        io.readOnly(false);
        try (DiskDirectoryLock _ = DiskDirectoryLock.acquire(dir, io)) {
            assertThrows(DiskDirectoryBusyException.class, () -> DiskDirectoryLock.acquire(dir, io));
        }
    }

    @Test
    void closingTwiceFreesNothingOfALaterHolder() throws Exception {
        DiskDirectoryLock first = DiskDirectoryLock.acquire(dir, io);
        first.close();
        try (DiskDirectoryLock _ = DiskDirectoryLock.acquire(dir, io)) {
            first.close();
            assertThrows(DiskDirectoryBusyException.class, () -> DiskDirectoryLock.acquire(dir, io));
        }
        DiskDirectoryLock.acquire(dir, io).close();
    }

    @Test
    void oneOfManyConcurrentAcquiresWins() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<DiskDirectoryLock>> tries = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            tries.add(pool.submit(() -> {
                start.await();
                try {
                    return DiskDirectoryLock.acquire(dir, io);
                } catch (DiskDirectoryBusyException e) {
                    return null;
                }
            }));
        }
        start.countDown();
        List<DiskDirectoryLock> won = new ArrayList<>();
        for (Future<DiskDirectoryLock> f : tries) {
            DiskDirectoryLock l = f.get(60, TimeUnit.SECONDS);
            if (l != null) {
                won.add(l);
            }
        }
        pool.shutdown();
        assertEquals(1, won.size(), "acquires that won");
        won.getFirst().close();
        assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
        DiskDirectoryLock.acquire(dir, io).close();
    }
}
