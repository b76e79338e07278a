package org.lmcache4j.api.spi;

import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.ChunkKey;

/**
 * A read-only view of one stored chunk's bytes, held by a reader: while it is open, the tier can
 * neither free nor overwrite the memory behind it. Close it as soon as the copy is done; closing twice
 * is harmless.
 */
public interface ChunkBuffer extends AutoCloseable {

    /** The key of the chunk. */
    ChunkKey key();

    /** The chunk's bytes, read-only, valid until {@link #close()}. */
    MemorySegment segment();

    /** Length of the chunk in bytes. */
    default long sizeBytes() {
        return segment().byteSize();
    }

    /**
     * True while the bytes behind {@link #segment()} are still this chunk's. A tier whose hold can end before the
     * buffer is closed (the node-shared pool's holds end with their lease, so that a reader that hangs cannot pin a
     * slot for ever) answers false once its slot may have been reused: a caller that copied the bytes then discards
     * the copy. The default, true, suits tiers whose holds last until {@link #close()}.
     */
    default boolean intact() {
        return true;
    }

    /** Releases the reader's hold. */
    @Override
    void close();
}
