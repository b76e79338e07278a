package org.lmcache4j.storage;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Optional;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;

/** A tier whose reads take at least {@code delayMillis}, like an overloaded disk or a far remote store. */
final class SlowTier implements StorageTier {

    private final StorageTier delegate;
    private final long delayMillis;

    SlowTier(StorageTier delegate, long delayMillis) {
        this.delegate = delegate;
        this.delayMillis = delayMillis;
    }

    @Override
    public String name() {
        return "slow";
    }

    @Override
    public boolean contains(ChunkKey key) {
        return delegate.contains(key);
    }

    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        try {
            Thread.sleep(delayMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return delegate.get(key);
    }

    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        return delegate.put(key, payload);
    }

    @Override
    public boolean remove(ChunkKey key) {
        return delegate.remove(key);
    }

    @Override
    public boolean pin(ChunkKey key, Duration timeout) {
        return delegate.pin(key, timeout);
    }

    @Override
    public void unpin(ChunkKey key) {
        delegate.unpin(key);
    }

    @Override
    public void clear() {
        delegate.clear();
    }

    @Override
    public TierStats stats() {
        TierStats s = delegate.stats();
        return new TierStats(name(), s.chunks(), s.usedBytes(), s.capacityBytes(), s.errors(), s.healthy());
    }

    @Override
    public void close() {
        delegate.close();
    }
}
