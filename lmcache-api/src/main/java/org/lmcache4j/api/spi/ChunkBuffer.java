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

    /** Releases the reader's hold. */
    @Override
    void close();
}
