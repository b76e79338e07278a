package org.lmcache4j.storage.engine;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Health boundary around a tier: a failure inside the tier becomes a miss (or a dropped write), is
 * counted, and marks the tier unhealthy until its next success. The first failure is logged with its
 * stack trace; later ones at most once a minute, with the count, so a broken disk cannot flood the log.
 * The engine never sees a tier's exception.
 */
final class GuardedTier {

    private static final Logger LOG = LoggerFactory.getLogger(GuardedTier.class);
    private static final long LOG_INTERVAL_NANOS = 60_000_000_000L;

    private final StorageTier tier;
    private final String name;
    private final LongAdder errors = new LongAdder();
    private final AtomicBoolean failing = new AtomicBoolean();
    /** Measured load cost in picoseconds per byte (an exponential moving average); 0 until measured. */
    private final AtomicLong loadPicosPerByte = new AtomicLong();
    private final AtomicLong lastLoadNanos = new AtomicLong(System.nanoTime());
    /** Half-life of a load-time estimate without new measurements. */
    static final long ESTIMATE_HALF_LIFE_SECONDS = 10;
    private final AtomicLong lastLogNanos = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);

    GuardedTier(StorageTier tier) {
        this(tier, tier.name());
    }

    /** @param name the tier's name in this connector: its own, or with a suffix when another tier has that name */
    GuardedTier(StorageTier tier, String name) {
        this.tier = tier;
        this.name = name;
    }

    StorageTier tier() {
        return tier;
    }

    String name() {
        return name;
    }

    /** The tier's {@link StorageTier#awaitReady}; a tier that fails to say counts as ready (the failure counted as any other). */
    boolean awaitReady(Duration timeout) {
        try {
            return tier.awaitReady(timeout);
        } catch (RuntimeException | OutOfMemoryError e) {
            return failed("awaitReady", e, true);
        }
    }

    boolean contains(ChunkKey key) {
        try {
            return succeeded(tier.contains(key));
        } catch (RuntimeException | OutOfMemoryError e) {
            return failed("contains", e, false);
        }
    }

    boolean remove(ChunkKey key) {
        try {
            return succeeded(tier.remove(key));
        } catch (RuntimeException | OutOfMemoryError e) {
            return failed("remove", e, false);
        }
    }

    Optional<ChunkBuffer> get(ChunkKey key) {
        try {
            return succeeded(tier.get(key));
        } catch (RuntimeException | OutOfMemoryError e) {
            return failed("get", e, Optional.empty());
        }
    }

    /** {@link StorageTier#closeAll}; a failure is counted, never thrown. */
    void closeAll(List<ChunkBuffer> buffers) {
        try {
            tier.closeAll(buffers);
        } catch (RuntimeException e) {
            failed("close", e, null);
        }
    }

    /**
     * {@link StorageTier#getAll}: one element per key, each held or empty; when the tier fails, every element is
     * empty (one failure counted). The caller closes every buffer.
     */
    List<Optional<ChunkBuffer>> getAll(List<ChunkKey> keys) {
        try {
            List<Optional<ChunkBuffer>> got = tier.getAll(keys);
            if (got.size() != keys.size()) {
                got.forEach(b -> b.ifPresent(ChunkBuffer::close));
                throw new IllegalStateException("getAll of " + keys.size() + " keys answered " + got.size() + " (expected: one per key)");
            }
            return succeeded(got);
        } catch (RuntimeException | OutOfMemoryError e) {
            return failed("get", e, Collections.nCopies(keys.size(), Optional.empty()));
        }
    }

    /** What {@link #readInto} returns when the tier failed (counted here), as opposed to -1 for a miss. */
    static final long READ_FAILED = -2;

    /**
     * {@link StorageTier#readInto}: the length read, -1 on a miss, or {@link #READ_FAILED} when the tier
     * failed. Either way the chunk is not there to read now: callers must not try it again (on a slow
     * server that would cost a second timeout).
     */
    long readInto(ChunkKey key, MemorySegment target) {
        try {
            long n = succeeded(tier.readInto(key, target));
            return n < 0 ? -1 : n;
        } catch (RuntimeException | OutOfMemoryError e) {
            return failed("read", e, READ_FAILED);
        }
    }

    /**
     * {@link #readInto} of several chunks in one call of the tier ({@link StorageTier#readAllInto}: a tier
     * that {@link StorageTier#prefersBatches prefers batches} pipelines them, others read them one by one):
     * element {@code i} is what {@code readInto(keys[i], targets[i])} would return. When the tier fails,
     * every element is {@link #READ_FAILED} (one failure counted), whatever the targets hold.
     */
    long[] readAllInto(List<ChunkKey> keys, List<MemorySegment> targets) {
        try {
            long[] n = tier.readAllInto(keys, targets);
            for (int i = 0; i < n.length; i++) {
                n[i] = n[i] < 0 ? -1 : n[i];
            }
            return succeeded(n);
        } catch (RuntimeException | OutOfMemoryError e) {
            long[] failedAll = new long[keys.size()];
            java.util.Arrays.fill(failedAll, READ_FAILED);
            return failed("read", e, failedAll);
        }
    }

    boolean put(ChunkKey key, MemorySegment payload) {
        try {
            return succeeded(tier.put(key, payload));
        } catch (RuntimeException | OutOfMemoryError e) {
            return failed("put", e, false);
        }
    }

    boolean pin(ChunkKey key, Duration timeout) {
        try {
            return succeeded(tier.pin(key, timeout));
        } catch (RuntimeException | OutOfMemoryError e) {
            return failed("pin", e, false);
        }
    }

    void unpin(ChunkKey key) {
        try {
            tier.unpin(key);
            succeeded(null);
        } catch (RuntimeException e) {
            failed("unpin", e, null);
        }
    }

    void clear() {
        try {
            tier.clear();
            succeeded(null);
        } catch (RuntimeException e) {
            failed("clear", e, null);
        }
    }

    /** Records a failure of an operation made on the tier directly (such as the cpu tier's reserve). */
    <T> T failed(String operation, Throwable e, T missValue) {
        errors.increment();
        failing.set(true);
        long now = System.nanoTime();
        long last = lastLogNanos.get();
        if (now - last >= LOG_INTERVAL_NANOS && lastLogNanos.compareAndSet(last, now)) {
            if (errors.sum() == 1) {
                LOG.warn("{} tier failed in {}; its chunks are misses until it works again: {}", name, operation,
                        e.toString(), e);
            } else {
                LOG.warn("{} tier failed in {} ({} errors so far): {}", name, operation, errors.sum(), e.toString());
            }
        }
        return missValue;
    }

    <T> T succeeded(T value) {
        if (failing.get() && failing.compareAndSet(true, false)) {
            LOG.debug("{} tier works again after {} errors", name, errors.sum());
        }
        return value;
    }

    /** Records that loading {@code bytes} from this tier took {@code nanos}. */
    void recordLoad(long bytes, long nanos) {
        if (bytes <= 0) {
            return;
        }
        long sample = Math.max(1, nanos * 1000 / bytes);
        loadPicosPerByte.getAndUpdate(old -> old == 0 ? sample : (old * 4 + sample) / 5);
        lastLoadNanos.set(System.nanoTime());
    }

    /**
     * Estimated time to load {@code bytes} from this tier; 0 until a load was measured (optimistic). The
     * estimate halves for every {@value #ESTIMATE_HALF_LIFE_SECONDS} s without a measured load: a tier
     * judged too slow once is not left out forever, it is tried again and measured anew.
     */
    long estimateLoadNanos(long bytes) {
        return estimateLoadNanos(bytes, System.nanoTime());
    }

    /** {@link #estimateLoadNanos(long)} as of {@code nowNanos}. */
    long estimateLoadNanos(long bytes, long nowNanos) {
        long halvings = Math.max(0, nowNanos - lastLoadNanos.get()) / (ESTIMATE_HALF_LIFE_SECONDS * 1_000_000_000L);
        return halvings >= 63 ? 0 : (loadPicosPerByte.get() * bytes / 1000) >> halvings;
    }

    long errors() {
        return errors.sum();
    }

    /** True from a failure until the next success. */
    boolean failing() {
        return failing.get();
    }

    /** Why the tier refuses its stored KV (another cache identity), if it does. */
    java.util.Optional<String> identityMismatch() {
        try {
            return tier.identityMismatch();
        } catch (RuntimeException e) {
            return failed("identityMismatch", e, java.util.Optional.empty());
        }
    }

    TierStats stats() {
        TierStats s;
        try {
            s = tier.stats();
        } catch (RuntimeException e) {
            s = failed("stats", e, new TierStats(name, 0, 0, 0, 0, false));
        }
        return new TierStats(name, s.chunks(), s.usedBytes(), s.capacityBytes(), s.errors() + errors.sum(),
                s.healthy() && !failing.get(), s.lossyChunksServed());
    }

    void close() {
        try {
            tier.close();
        } catch (RuntimeException e) {
            LOG.warn("{} tier failed to close: {}", name, e.toString(), e);
        }
    }
}
