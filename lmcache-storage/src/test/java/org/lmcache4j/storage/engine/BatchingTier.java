package org.lmcache4j.storage.engine;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.StorageTier;

/**
 * A cpu tier that says it {@linkplain StorageTier#prefersBatches() prefers batches}, as a network store
 * does, and records every batch call, for tests of how the engine treats such a tier whatever provider
 * opened it. Its batch calls can be made to fail. It outlives the engines it is given to (their close
 * leaves it open), so a second engine can find what a first one stored, as in a shared store. Made with
 * {@link #pipelining}, it is instead a local tier that only {@linkplain StorageTier#pipelinesReads() pipelines
 * reads}, as the disk tier does.
 */
final class BatchingTier extends SharedTestTier {

    /** Sizes of the containsAll calls so far, in order. */
    final List<Integer> containsAllCalls = new ArrayList<>();
    /** Sizes of the readAllInto calls so far, in order. */
    final List<Integer> readAllIntoCalls = new ArrayList<>();
    /** Single-chunk reads (readInto) so far, outside batches. */
    volatile int readIntoCalls;
    private volatile boolean inBatch;
    volatile int containsCalls;
    volatile boolean failBatches;
    private final boolean prefersBatches;

    BatchingTier(long budgetBytes, long chunkBytes) {
        this(budgetBytes, chunkBytes, true);
    }

    private BatchingTier(long budgetBytes, long chunkBytes, boolean prefersBatches) {
        super(budgetBytes, chunkBytes);
        this.prefersBatches = prefersBatches;
    }

    /** A tier named "disk" that does not prefer batches but pipelines reads. */
    static BatchingTier pipelining(long budgetBytes, long chunkBytes) {
        return new BatchingTier(budgetBytes, chunkBytes, false);
    }

    @Override
    public String name() {
        return prefersBatches ? "remote" : "disk";
    }

    @Override
    public boolean prefersBatches() {
        return prefersBatches;
    }

    @Override
    public boolean pipelinesReads() {
        return true;
    }

    @Override
    public synchronized boolean[] containsAll(List<ChunkKey> keys) {
        containsAllCalls.add(keys.size());
        if (failBatches) {
            throw new IllegalStateException("batch call failed on purpose");
        }
        return super.containsAll(keys);
    }

    @Override
    public synchronized long[] readAllInto(List<ChunkKey> keys, List<MemorySegment> targets) {
        readAllIntoCalls.add(keys.size());
        inBatch = true;
        try {
            return super.readAllInto(keys, targets);
        } finally {
            inBatch = false;
        }
    }

    @Override
    public long readInto(ChunkKey key, MemorySegment target) {
        if (!inBatch) {
            readIntoCalls++;
        }
        return store.readInto(key, target);
    }

    @Override
    public boolean contains(ChunkKey key) {
        containsCalls++;
        return store.contains(key);
    }
}
