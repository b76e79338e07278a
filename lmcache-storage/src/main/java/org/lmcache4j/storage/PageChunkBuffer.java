package org.lmcache4j.storage;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;

/** A reader's hold on a {@link ChunkPage}: a read-only view of the chunk's bytes; close drops the hold once. */
final class PageChunkBuffer implements ChunkBuffer {

    private final ChunkKey key;
    private final ChunkPage page;
    private final MemorySegment view;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Takes over one reference of {@code page} that the caller already holds. */
    PageChunkBuffer(ChunkKey key, ChunkPage page, long bytes) {
        this.key = key;
        this.page = page;
        this.view = page.memory().asSlice(0, bytes).asReadOnly();
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
            page.release();
        }
    }
}
