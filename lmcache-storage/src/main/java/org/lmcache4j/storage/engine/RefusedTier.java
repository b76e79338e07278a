package org.lmcache4j.storage.engine;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Optional;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;

/**
 * Stands in for a tier that refused to open because its place holds KV of another cache identity: it
 * holds nothing, takes nothing and reports itself unhealthy, so the connector runs on its other tiers
 * while {@code /health}, the stats and every miss's reason say why.
 */
final class RefusedTier implements StorageTier {

    private final String name;
    private final String why;

    RefusedTier(String name, String why) {
        this.name = name;
        this.why = why;
    }

    @Override
    public Optional<String> identityMismatch() {
        return Optional.of(why);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean contains(ChunkKey key) {
        return false;
    }

    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        return Optional.empty();
    }

    @Override
    public long readInto(ChunkKey key, MemorySegment target) {
        return -1;
    }

    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        return false;
    }

    @Override
    public boolean remove(ChunkKey key) {
        return false;
    }

    @Override
    public boolean pin(ChunkKey key, Duration timeout) {
        return false;
    }

    @Override
    public void unpin(ChunkKey key) {
    }

    @Override
    public void clear() {
    }

    @Override
    public TierStats stats() {
        return new TierStats(name, 0, 0, 0, 0, false);
    }

    @Override
    public void close() {
    }
}
