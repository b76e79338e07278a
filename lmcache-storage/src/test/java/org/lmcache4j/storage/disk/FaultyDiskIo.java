package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.lmcache4j.testing.FaultyFileChannel;
import org.lmcache4j.testing.SimulatedDisk;

/**
 * A {@link DiskIo} over the real file system that fails on command (writes go through the fixtures'
 * {@link FaultyFileChannel} on a {@link SimulatedDisk}), for testing how the disk tier
 * degrades: a disk that fills up after a number of bytes ({@code "No space left on device"}, with the
 * last write partly done, as a real one), a read-only file system, failing reads and failing deletions
 * (checked or unchecked). It also measures the bytes written minus the bytes deleted (files it saw
 * written), and their maximum, to check a budget on disk, and counts the opens of each file. Switches
 * may be flipped from any thread at any time.
 */
public final class FaultyDiskIo implements DiskIo {

    private final DiskIo delegate = FileSystemDiskIo.INSTANCE;
    private final SimulatedDisk disk = new SimulatedDisk();
    private volatile boolean readOnly;
    private volatile boolean failReads;
    private volatile boolean failDeletes;
    private volatile boolean uncheckedDeleteFailures;
    private volatile boolean errorOnRename;
    private final Map<Path, Integer> opens = new ConcurrentHashMap<>();

    /** From now on, writes fail with "No space left on device" once {@code bytes} more have been written. */
    public FaultyDiskIo diskFullAfter(long bytes) {
        disk.fullAfter(bytes);
        return this;
    }

    /** Writes succeed again. */
    FaultyDiskIo diskFreed() {
        disk.freed();
        return this;
    }

    /** When true, creating, writing, renaming and deleting files fail with "Read-only file system". */
    FaultyDiskIo readOnly(boolean on) {
        this.readOnly = on;
        return this;
    }

    /** When true, opening a file for reading fails with "Input/output error". */
    FaultyDiskIo failReads(boolean on) {
        this.failReads = on;
        return this;
    }

    /**
     * When {@code on}, deleting a file fails with "Input/output error": an {@link IOException}, or
     * wrapped in an {@link UncheckedIOException} when {@code unchecked}, as a {@link DiskIo} must not
     * but a faulty one might.
     */
    FaultyDiskIo failDeletes(boolean on, boolean unchecked) {
        this.uncheckedDeleteFailures = unchecked;
        this.failDeletes = on;
        return this;
    }

    /** When true, renaming a file throws an {@link AssertionError}: an {@link Error}, as no file system should. */
    FaultyDiskIo errorOnRename(boolean on) {
        this.errorOnRename = on;
        return this;
    }

    /** How many times {@code file} was opened through this object, successfully or not. */
    int opens(Path file) {
        return opens.getOrDefault(file, 0);
    }

    /** The largest number of bytes in files written through this object at any moment, minus deletions. */
    long maxLiveBytes() {
        return disk.maxLiveBytes();
    }

    /** Failures injected so far. */
    long injectedFailures() {
        return disk.injectedFailures();
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        if (readOnly && !Files.isDirectory(dir)) {
            throw readOnlyFailure(dir);
        }
        delegate.createDirectories(dir);
    }

    @Override
    public Path realPath(Path dir) throws IOException {
        return delegate.realPath(dir);
    }

    @Override
    public List<Listing> list(Path dir) throws IOException {
        return delegate.list(dir);
    }

    @Override
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        opens.merge(file, 1, Integer::sum);
        Set<OpenOption> set = Set.of(options);
        boolean writes = set.contains(StandardOpenOption.WRITE) || set.contains(StandardOpenOption.CREATE)
                || set.contains(StandardOpenOption.CREATE_NEW);
        if (writes && readOnly) {
            throw readOnlyFailure(file);
        }
        if (!writes && failReads) {
            disk.countFailure();
            throw new FileSystemException(file.toString(), null, "Input/output error (FaultyDiskIo)");
        }
        FileChannel ch = delegate.open(file, options);
        return writes ? new FaultyFileChannel(ch, disk) : ch;
    }

    @Override
    public void moveAtomically(Path source, Path target) throws IOException {
        if (readOnly) {
            throw readOnlyFailure(source);
        }
        if (errorOnRename) {
            disk.countFailure();
            throw new AssertionError("rename " + source + " (FaultyDiskIo)");
        }
        delegate.moveAtomically(source, target);
    }

    @Override
    public boolean deleteIfExists(Path file) throws IOException {
        if (readOnly) {
            throw readOnlyFailure(file);
        }
        if (failDeletes) {
            disk.countFailure();
            IOException e = new FileSystemException(file.toString(), null, "Input/output error (FaultyDiskIo)");
            if (uncheckedDeleteFailures) {
                throw new UncheckedIOException(e);
            }
            throw e;
        }
        long size = Files.isRegularFile(file) ? Files.size(file) : 0;
        boolean deleted = delegate.deleteIfExists(file);
        if (deleted) {
            disk.deleted(size);
        }
        return deleted;
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        delegate.syncDirectory(dir);
    }

    private IOException readOnlyFailure(Path file) {
        disk.countFailure();
        return new FileSystemException(file.toString(), null, "Read-only file system (FaultyDiskIo)");
    }
}
