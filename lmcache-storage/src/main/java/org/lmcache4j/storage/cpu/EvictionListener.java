package org.lmcache4j.storage.cpu;

import java.util.function.Supplier;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;

/** Told about each chunk the cpu tier evicts, so it can be demoted to the slower tiers that lack it. */
@FunctionalInterface
public interface EvictionListener {

    EvictionListener NONE = (key, copies, hold) -> { };

    /**
     * Called once the chunk is out of the index, before its page is released.
     *
     * @param copies the chunk's copy marks ({@link CpuTier#markCopied}): the slower tiers known to hold it;
     *               {@link CpuTier#ALL_COPIES} for a lossy chunk, which no tier may take
     * @param hold   opens a new hold on the chunk's bytes (a read-only buffer that keeps its page, and so its
     *               share of the cpu budget, until closed); callable only during this call
     */
    void evicted(ChunkKey key, int copies, Supplier<ChunkBuffer> hold);
}
