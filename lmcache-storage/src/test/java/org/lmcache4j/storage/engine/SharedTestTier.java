package org.lmcache4j.storage.engine;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Optional;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.cpu.CpuTier;

/**
 * A cpu tier standing in for a store engines share (a remote server, a node's pool), for tests of how the engine
 * treats such a tier whatever provider opened it: it outlives the engines it is given to (their close leaves it
 * open), so a second engine finds what a first one stored. Subclasses say what kind of store it stands for and
 * record the calls they are about.
 */
abstract class SharedTestTier implements StorageTier {

    /** Where the chunks are. */
    final CpuTier store;

    SharedTestTier(long budgetBytes, long chunkBytes) {
        this.store = new CpuTier(budgetBytes, chunkBytes);
    }

    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        return store.put(key, payload);
    }

    @Override
    public boolean contains(ChunkKey key) {
        return store.contains(key);
    }

    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        return store.get(key);
    }

    @Override
    public boolean remove(ChunkKey key) {
        return store.remove(key);
    }

    @Override
    public boolean pin(ChunkKey key, Duration timeout) {
        return store.pin(key, timeout);
    }

    @Override
    public void unpin(ChunkKey key) {
        store.unpin(key);
    }

    @Override
    public void clear() {
        store.clear();
    }

    @Override
    public TierStats stats() {
        return store.stats();
    }

    /** Nothing: an engine closing its tiers leaves this one to the next engine; {@link #release()} frees it. */
    @Override
    public void close() {
    }

    /** Frees the pages this tier holds. */
    void release() {
        store.close();
    }
}
