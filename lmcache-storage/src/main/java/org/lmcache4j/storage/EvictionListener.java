package org.lmcache4j.storage;

import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.ChunkKey;

/** Told about each chunk a tier evicts, while its bytes are still valid (so it can be demoted). */
@FunctionalInterface
interface EvictionListener {

    EvictionListener NONE = (key, bytes) -> { };

    /** {@code bytes} is read-only and valid only during the call. */
    void evicted(ChunkKey key, MemorySegment bytes);
}
