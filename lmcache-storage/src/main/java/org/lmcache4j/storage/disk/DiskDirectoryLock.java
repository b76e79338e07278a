package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import org.lmcache4j.storage.tier.ChunkFileNames;

/**
 * A {@code disk} tier's exclusive hold on its directory: made sure to exist and to be writable, and
 * locked through the file {@value #LOCK_FILE} in it, so a second tier (in this process or another) cannot
 * open the same directory and delete the first one's temporary files at its start. The operating system
 * drops the lock when the process dies, so a crash leaves no stale lock.
 *
 * <p>Implementation notes. The file lock is a POSIX lock on Linux: it belongs to the process, and closing
 * <em>any</em> descriptor the process has on the file drops it. So a second tier of this JVM must never
 * open the lock file, not even to find it locked: the directories held in this JVM are claimed first in
 * {@link #HELD}, by their real path (symbolic links and {@code ..} resolved, so every spelling of a
 * directory is one key), and a second claim is refused before any channel is opened. A claim is given
 * back only after the file lock is released and its channel closed, and by the acquire that failed.
 */
final class DiskDirectoryLock implements AutoCloseable {

    /** Name of the lock file inside the directory; never deleted. */
    static final String LOCK_FILE = "disk-tier.lock";

    /** The real paths of the directories held in this JVM, each with the claim of its holder. */
    private static final ConcurrentHashMap<Path, Object> HELD = new ConcurrentHashMap<>();

    private final Path realDir;
    private final Object claim;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean closed;

    private DiskDirectoryLock(Path realDir, Object claim, FileChannel channel, FileLock lock) {
        this.realDir = realDir;
        this.claim = claim;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code dir} if missing, checks that files can be created in it and locks it.
     *
     * @throws IllegalArgumentException naming the directory and the cause when it is not a usable
     *                                  directory (a regular file, read-only, not creatable) or is locked
     */
    static DiskDirectoryLock acquire(Path dir, DiskIo io) {
        try {
            io.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw unusable(dir, "not a directory (a file of that name exists)", e);
        } catch (IOException e) {
            throw unusable(dir, "cannot be created: " + e, e);
        }
        Path realDir;
        try {
            realDir = io.realPath(dir);
        } catch (IOException e) {
            throw unusable(dir, "cannot be resolved: " + e, e);
        }
        Object claim = new Object();
        if (HELD.putIfAbsent(realDir, claim) != null) {
            throw new DiskDirectoryBusyException("disk tier directory " + dir + ": in use by another disk tier of this process ("
                    + realDir + ")");
        }
        FileChannel channel = null;
        boolean ok = false;
        try {
            channel = io.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException heldInThisJvm) {
                lock = null; // by code other than a disk tier: no claim in HELD
            }
            if (lock == null) {
                throw new DiskDirectoryBusyException("disk tier directory " + dir + ": in use by another disk tier ("
                        + LOCK_FILE + " is locked)");
            }
            probeWrite(dir, io);
            ok = true;
            return new DiskDirectoryLock(realDir, claim, channel, lock);
        } catch (IOException e) {
            throw unusable(dir, "not writable: " + e, e);
        } finally {
            if (!ok) {
                try {
                    if (channel != null) {
                        channel.close(); // releases the lock, if taken
                    }
                } catch (IOException ignored) {
                    // the failure being reported matters more
                } finally {
                    HELD.remove(realDir, claim);
                }
            }
        }
    }

    /** Releases the lock, then gives the directory back to this JVM; idempotent. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (lock.isValid()) {
                lock.release();
            }
        } finally {
            try {
                channel.close();
            } finally {
                HELD.remove(realDir, claim);
            }
        }
    }

    // The lock file may exist from an earlier run while the directory became read-only since: create anew.
    private static void probeWrite(Path dir, DiskIo io) throws IOException {
        Path probe = ChunkFileNames.tempFor(dir.resolve("probe"));
        io.open(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        io.deleteIfExists(probe);
    }

    private static IllegalArgumentException unusable(Path dir, String why, Exception cause) {
        return new IllegalArgumentException("disk tier directory " + dir + ": " + why, cause);
    }
}
