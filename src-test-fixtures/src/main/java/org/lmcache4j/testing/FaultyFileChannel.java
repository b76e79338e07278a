package org.lmcache4j.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A fault-injecting {@link FileChannel}: writes take room on a {@link SimulatedDisk} and fail with
 * {@code "No space left on device"} when it is full (the last write partly done, as on a real disk);
 * everything else passes through to the real channel. Room is what makes the file longer, a hole before a write
 * included (so that it matches a deletion, which gives back the file's length): a write over a file's existing
 * bytes takes none, and a truncation gives room back.
 * For testing how a disk-backed tier degrades. Not thread-safe: one writer per channel.
 */
public final class FaultyFileChannel extends FileChannel {

    private final FileChannel ch;
    private final SimulatedDisk disk;
    private long length;

    /** Wraps {@code ch}, a file of its current length; its writes take room on {@code disk}. */
    public FaultyFileChannel(FileChannel ch, SimulatedDisk disk) throws IOException {
        this.ch = ch;
        this.disk = disk;
        this.length = ch.size();
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return write(src, -1);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        long at = position < 0 ? ch.position() : position;
        int wanted = src.remaining();
        long before = length;
        long hole = Math.max(0, at - before);
        long granted = disk.reserve(Math.toIntExact(Math.max(0, at + wanted - before))); // the growth, a hole included
        int over = (int) Math.max(0, Math.min(wanted, before - at)); // bytes that exist already take no room
        int allowed = (int) Math.max(over, Math.min(wanted, over + granted - hole));
        int n = 0;
        if (allowed > 0) {
            ByteBuffer part = src.slice().limit(allowed);
            n = position < 0 ? ch.write(part) : ch.write(part, position);
            src.position(src.position() + n);
            if (n > 0) {
                length = Math.max(length, at + n);
            }
        }
        disk.unwritten(granted - (length - before)); // room granted that the file did not grow into
        if (n < allowed) {
            return n; // a short write; the caller comes back for the rest
        }
        if (allowed < wanted) {
            disk.countFailure();
            throw new IOException("No space left on device (FaultyFileChannel)");
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
        if (size < length) {
            disk.deleted(length - size);
            length = size;
        }
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
        throw new UnsupportedOperationException("transferFrom (FaultyFileChannel counts writes through write only)");
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        throw new UnsupportedOperationException("map (FaultyFileChannel counts writes through write only)");
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
