package org.lmcache4j.storage.engine;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;

/**
 * A tier whose reads take at least {@code delayMillis} and whose puts take at least {@code putDelayMillis},
 * like an overloaded disk or a far remote store; puts can also be held until let go ({@link #holdPuts}).
 */
final class SlowTier implements StorageTier {

    private final StorageTier delegate;
    private final long delayMillis;
    private final long putDelayMillis;
    private final boolean pipelining;
    private volatile CountDownLatch putGate = new CountDownLatch(0);
    private final Semaphore putsHeld = new Semaphore(0);

    SlowTier(StorageTier delegate, long delayMillis) {
        this(delegate, delayMillis, 0);
    }

    SlowTier(StorageTier delegate, long delayMillis, long putDelayMillis) {
        this(delegate, delayMillis, putDelayMillis, false);
    }

    private SlowTier(StorageTier delegate, long delayMillis, long putDelayMillis, boolean pipelining) {
        this.delegate = delegate;
        this.delayMillis = delayMillis;
        this.putDelayMillis = putDelayMillis;
        this.pipelining = pipelining;
    }

    /**
     * A tier that {@linkplain StorageTier#pipelinesReads() pipelines reads}, as the disk tier does: a
     * {@code readAllInto} of any number of chunks takes {@code delayMillis} once, a read of one chunk takes it too.
     */
    static SlowTier pipelining(StorageTier delegate, long delayMillis) {
        return new SlowTier(delegate, delayMillis, 0, true);
    }

    @Override
    public boolean pipelinesReads() {
        return pipelining;
    }

    @Override
    public long[] readAllInto(List<ChunkKey> keys, List<MemorySegment> targets) {
        if (!pipelining) {
            return StorageTier.super.readAllInto(keys, targets);
        }
        sleep(delayMillis);
        long[] n = new long[keys.size()];
        for (int i = 0; i < n.length; i++) {
            n[i] = delegate.readInto(keys.get(i), targets.get(i));
        }
        return n;
    }

    /** From now on, every put waits until {@link #letPutsGo()}. */
    SlowTier holdPuts() {
        putGate = new CountDownLatch(1);
        return this;
    }

    /** Ends {@link #holdPuts()}: waiting puts go on. */
    void letPutsGo() {
        putGate.countDown();
    }

    /** Waits (at most 10 s) until a put is held; false when none came. */
    boolean awaitHeldPut() throws InterruptedException {
        return putsHeld.tryAcquire(10, TimeUnit.SECONDS);
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
        sleep(delayMillis);
        return delegate.get(key);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        CountDownLatch gate = putGate;
        try {
            if (gate.getCount() > 0) {
                putsHeld.release();
                gate.await();
            }
            Thread.sleep(putDelayMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
