package org.lmcache4j.storage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;

/**
 * A chunk read from the {@code disk} tier: a read-only view of off-heap memory owned by its own shared
 * {@link Arena} (the buffer may be closed on another thread than the reader's). Closing frees the memory
 * and ends the reader's hold on the chunk, once.
 */
final class DiskChunkBuffer implements ChunkBuffer {

    private final ChunkKey key;
    private final Arena arena;
    private final MemorySegment view;
    private final Runnable onClose;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Takes over {@code arena}, which owns {@code bytes}; {@code onClose} runs once, after the arena is closed. */
    DiskChunkBuffer(ChunkKey key, Arena arena, MemorySegment bytes, Runnable onClose) {
        this.key = key;
        this.arena = arena;
        this.view = bytes.asReadOnly();
        this.onClose = onClose;
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
            try {
                arena.close();
            } finally {
                onClose.run();
            }
        }
    }
}
