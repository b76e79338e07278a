package org.lmcache4j.storage.tier;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;

/**
 * A reader's hold on a stored chunk: a read-only view of its bytes and the action that ends the hold
 * (release a cpu page's reference; free a disk read's memory and end the disk index's hold), run once.
 */
public final class HeldChunkBuffer implements ChunkBuffer {

    private final ChunkKey key;
    private final MemorySegment view;
    private final Runnable release;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** {@code bytes} stays valid until {@code release} runs; the caller hands its hold over to this buffer. */
    public HeldChunkBuffer(ChunkKey key, MemorySegment bytes, Runnable release) {
        this.key = key;
        this.view = bytes.asReadOnly();
        this.release = release;
    }

    @Override
    public ChunkKey key() {
        return key;
    }

    @Override
    public MemorySegment segment() {
        if (closed.get()) {
            throw new IllegalStateException("chunk buffer " + key + " already closed");
        }
        return view;
    }

    @Override
    public long sizeBytes() {
        return view.byteSize();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release.run();
        }
    }
}
