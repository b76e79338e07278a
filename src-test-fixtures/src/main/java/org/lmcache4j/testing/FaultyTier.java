package org.lmcache4j.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;

/**
 * A {@link StorageTier} that delegates to another tier and fails on command, for testing how callers
 * degrade: {@code get}, {@code put} and {@code contains} can throw {@link UncheckedIOException} (a broken
 * disk), and reads can return bytes that differ from the stored ones. It counts every call, failing or
 * not. Switches may be flipped from any thread at any time; closing it closes the delegate.
 */
public final class FaultyTier implements StorageTier {

    private final StorageTier delegate;
    private volatile boolean failGets;
    private volatile boolean failPuts;
    private volatile boolean failContains;
    private volatile boolean corruptReads;
    private volatile boolean servesLossy;
    private volatile Consumer<ChunkKey> evictionListener = key -> { };

    private final AtomicLong getCalls = new AtomicLong();
    private final AtomicLong putCalls = new AtomicLong();
    private final AtomicLong containsCalls = new AtomicLong();
    private final AtomicLong removeCalls = new AtomicLong();
    private final AtomicLong pinCalls = new AtomicLong();
    private final AtomicLong injectedFailures = new AtomicLong();
    private final AtomicLong corruptedReads = new AtomicLong();

    /** Wraps {@code delegate}, passing every call through until told otherwise. */
    public FaultyTier(StorageTier delegate) {
        if (delegate == null) {
            throw new IllegalArgumentException("delegate: null (expected: the tier to wrap)");
        }
        this.delegate = delegate;
    }

    /** The wrapped tier. */
    public StorageTier delegate() {
        return delegate;
    }

    /** When true, the tier says its chunks may differ from those put ({@link StorageTier#servesLossy}), as a lossy codec's would. */
    public FaultyTier servesLossy(boolean lossy) {
        this.servesLossy = lossy;
        return this;
    }

    @Override
    public boolean servesLossy() {
        return servesLossy;
    }

    /**
     * Tells the connector this tier evicted {@code key} on its own, as a tier reports its evictions ({@link
     * StorageTier#onEviction}); the delegate's own reports are not passed on.
     */
    public void reportEviction(ChunkKey key) {
        evictionListener.accept(key);
    }

    @Override
    public void onEviction(Consumer<ChunkKey> listener) {
        this.evictionListener = listener;
    }

    /** When true, {@link #get} throws {@link UncheckedIOException}. */
    public FaultyTier failGets(boolean fail) {
        this.failGets = fail;
        return this;
    }

    /** When true, {@link #put} throws {@link UncheckedIOException} and stores nothing. */
    public FaultyTier failPuts(boolean fail) {
        this.failPuts = fail;
        return this;
    }

    /** When true, {@link #contains} throws {@link UncheckedIOException}. */
    public FaultyTier failContains(boolean fail) {
        this.failContains = fail;
        return this;
    }

    /**
     * When true, a hit of {@link #get} returns a copy of the stored chunk with its middle byte inverted
     * (an empty chunk is returned as stored); the stored chunk itself stays intact.
     */
    public FaultyTier corruptReads(boolean corrupt) {
        this.corruptReads = corrupt;
        return this;
    }

    /** Calls of {@link #get}, including failed ones. */
    public long getCalls() {
        return getCalls.get();
    }

    /** Calls of {@link #put}, including failed ones. */
    public long putCalls() {
        return putCalls.get();
    }

    /** Calls of {@link #contains}, including failed ones. */
    public long containsCalls() {
        return containsCalls.get();
    }

    /** Calls of {@link #remove}. */
    public long removeCalls() {
        return removeCalls.get();
    }

    /** Calls of {@link #pin}. */
    public long pinCalls() {
        return pinCalls.get();
    }

    /** Exceptions thrown on command so far. */
    public long injectedFailures() {
        return injectedFailures.get();
    }

    /** Corrupted buffers returned so far. */
    public long corruptedReads() {
        return corruptedReads.get();
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public boolean contains(ChunkKey key) {
        containsCalls.incrementAndGet();
        if (failContains) {
            throw injected("contains", key);
        }
        return delegate.contains(key);
    }

    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        getCalls.incrementAndGet();
        if (failGets) {
            throw injected("get", key);
        }
        Optional<ChunkBuffer> got = delegate.get(key);
        if (got.isEmpty() || !corruptReads) {
            return got;
        }
        try (ChunkBuffer stored = got.get()) {
            MemorySegment copy = Arena.ofAuto().allocate(Math.max(1, stored.sizeBytes()), 64)
                    .asSlice(0, stored.sizeBytes());
            MemorySegment.copy(stored.segment(), 0, copy, 0, stored.sizeBytes());
            if (copy.byteSize() > 0) {
                long at = copy.byteSize() / 2;
                copy.set(ValueLayout.JAVA_BYTE, at, (byte) ~copy.get(ValueLayout.JAVA_BYTE, at));
                corruptedReads.incrementAndGet();
            }
            return Optional.of(new CopiedBuffer(key, copy.asReadOnly()));
        }
    }

    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        putCalls.incrementAndGet();
        if (failPuts) {
            throw injected("put", key);
        }
        return delegate.put(key, payload);
    }

    @Override
    public boolean remove(ChunkKey key) {
        removeCalls.incrementAndGet();
        return delegate.remove(key);
    }

    @Override
    public boolean pin(ChunkKey key, Duration timeout) {
        pinCalls.incrementAndGet();
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
        return delegate.stats();
    }

    @Override
    public void close() {
        delegate.close();
    }

    private UncheckedIOException injected(String op, ChunkKey key) {
        injectedFailures.incrementAndGet();
        return new UncheckedIOException(new IOException("injected failure: " + op + " " + key + " on tier "
                + delegate.name() + " (FaultyTier)"));
    }

    /** A corrupted copy; its memory is freed by the garbage collector, so close has nothing to release. */
    private record CopiedBuffer(ChunkKey key, MemorySegment segment) implements ChunkBuffer {
        @Override
        public void close() {
        }
    }
}
