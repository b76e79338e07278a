package org.lmcache4j.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link DiskIo} over the real file system that fails on command, for testing how the disk tier
 * degrades: a disk that fills up after a number of bytes ({@code "No space left on device"}, with the
 * last write partly done, as a real one), a read-only file system, and failing reads. It also measures
 * the bytes written minus the bytes deleted (files it saw written), and their maximum, to check a
 * budget on disk. Switches may be flipped from any thread at any time.
 */
final class FaultyDiskIo implements DiskIo {

    private final DiskIo delegate = FileSystemDiskIo.INSTANCE;
    private final AtomicLong writableBytes = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong maxLiveBytes = new AtomicLong();
    private final AtomicLong injectedFailures = new AtomicLong();
    private volatile boolean readOnly;
    private volatile boolean failReads;

    /** From now on, writes fail with "No space left on device" once {@code bytes} more have been written. */
    FaultyDiskIo diskFullAfter(long bytes) {
        writableBytes.set(bytes);
        return this;
    }

    /** Writes succeed again. */
    FaultyDiskIo diskFreed() {
        writableBytes.set(Long.MAX_VALUE);
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

    /** The largest number of bytes in files written through this object at any moment, minus deletions. */
    long maxLiveBytes() {
        return maxLiveBytes.get();
    }

    /** Failures injected so far. */
    long injectedFailures() {
        return injectedFailures.get();
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        if (readOnly && !Files.isDirectory(dir)) {
            throw readOnlyFailure(dir);
        }
        delegate.createDirectories(dir);
    }

    @Override
    public List<Listing> list(Path dir) throws IOException {
        return delegate.list(dir);
    }

    @Override
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        Set<OpenOption> set = Set.of(options);
        boolean writes = set.contains(StandardOpenOption.WRITE) || set.contains(StandardOpenOption.CREATE)
                || set.contains(StandardOpenOption.CREATE_NEW);
        if (writes && readOnly) {
            throw readOnlyFailure(file);
        }
        if (!writes && failReads) {
            injectedFailures.incrementAndGet();
            throw new FileSystemException(file.toString(), null, "Input/output error (FaultyDiskIo)");
        }
        FileChannel ch = delegate.open(file, options);
        return writes ? new CountingChannel(ch) : ch;
    }

    @Override
    public void moveAtomically(Path source, Path target) throws IOException {
        if (readOnly) {
            throw readOnlyFailure(source);
        }
        delegate.moveAtomically(source, target);
    }

    @Override
    public boolean deleteIfExists(Path file) throws IOException {
        if (readOnly) {
            throw readOnlyFailure(file);
        }
        long size = Files.isRegularFile(file) ? Files.size(file) : 0;
        boolean deleted = delegate.deleteIfExists(file);
        if (deleted) {
            liveBytes.addAndGet(-size); // after the deletion: the measure never runs below the truth
        }
        return deleted;
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        delegate.syncDirectory(dir);
    }

    private IOException readOnlyFailure(Path file) {
        injectedFailures.incrementAndGet();
        return new FileSystemException(file.toString(), null, "Read-only file system (FaultyDiskIo)");
    }

    /** Counts the bytes written and runs out of space on command; everything else passes through. */
    private final class CountingChannel extends FileChannel {
        private final FileChannel ch;

        CountingChannel(FileChannel ch) {
            this.ch = ch;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return write(src, -1);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            int wanted = src.remaining();
            long before = writableBytes.getAndAccumulate(wanted, (left, n) -> left == Long.MAX_VALUE ? left : Math.max(0, left - n));
            int allowed = (int) Math.min(wanted, before);
            if (allowed > 0) {
                maxLiveBytes.accumulateAndGet(liveBytes.addAndGet(allowed), Math::max); // before the write: never below the truth
                ByteBuffer part = src.slice().limit(allowed);
                int n = position < 0 ? ch.write(part) : ch.write(part, position);
                liveBytes.addAndGet(n - allowed);
                src.position(src.position() + n);
                if (n < allowed) {
                    return n; // a short write; the caller comes back for the rest
                }
            }
            if (allowed < wanted) {
                injectedFailures.incrementAndGet();
                throw new IOException("No space left on device (FaultyDiskIo)");
            }
            return allowed;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                total += write(srcs[i]);
            }
            return total;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return ch.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return ch.read(dsts, offset, length);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return ch.read(dst, position);
        }

        @Override
        public long position() throws IOException {
            return ch.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            ch.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            ch.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            ch.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return ch.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            throw new UnsupportedOperationException("transferFrom (FaultyDiskIo counts writes through write only)");
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            throw new UnsupportedOperationException("map (FaultyDiskIo counts writes through write only)");
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return ch.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return ch.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            ch.close();
        }
    }
}
