package org.lmcache4j.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A {@code disk} tier's exclusive hold on its directory: made sure to exist and to be writable, and
 * locked through the file {@value #LOCK_FILE} in it, so a second tier (in this process or another) cannot
 * open the same directory and delete the first one's temporary files at its start. The operating system
 * drops the lock when the process dies, so a crash leaves no stale lock.
 */
final class DiskDirectoryLock implements AutoCloseable {

    /** Name of the lock file inside the directory; never deleted. */
    static final String LOCK_FILE = "disk-tier.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DiskDirectoryLock(FileChannel channel, FileLock lock) {
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
        FileChannel channel = null;
        boolean ok = false;
        try {
            channel = io.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException heldInThisJvm) {
                lock = null;
            }
            if (lock == null) {
                throw new DiskDirectoryBusyException("disk tier directory " + dir + ": in use by another disk tier ("
                        + LOCK_FILE + " is locked)");
            }
            probeWrite(dir, io);
            ok = true;
            return new DiskDirectoryLock(channel, lock);
        } catch (IOException e) {
            throw unusable(dir, "not writable: " + e, e);
        } finally {
            if (!ok && channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // the failure being reported matters more
                }
            }
        }
    }

    /** Releases the lock; idempotent. */
    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) {
                lock.release();
            }
        } finally {
            channel.close();
        }
    }

    // The lock file may exist from an earlier run while the directory became read-only since: create anew.
    private static void probeWrite(Path dir, DiskIo io) throws IOException {
        Path probe = dir.resolve("probe" + DiskChunkFiles.TEMP_MARK + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        io.open(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        io.deleteIfExists(probe);
    }

    private static IllegalArgumentException unusable(Path dir, String why, Exception cause) {
        return new IllegalArgumentException("disk tier directory " + dir + ": " + why, cause);
    }
}
