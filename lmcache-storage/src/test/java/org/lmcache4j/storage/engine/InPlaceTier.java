package org.lmcache4j.storage.engine;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;

/**
 * A cpu tier that says it serves hits in place and prefers batches, as the node-shared pool does (its calls cost a
 * round trip to a coordinator), and records every call that would: getAll, get, containsAll, contains, closeAll,
 * and the buffers still open. Its holds can be made to break ({@link #brokenHolds}). It outlives the engines it is
 * given to, as a shared pool does.
 */
final class InPlaceTier extends SharedTestTier {

    /** Sizes of the getAll calls so far, in order. */
    final List<Integer> getAllCalls = new ArrayList<>();
    /** Sizes of the containsAll calls so far, in order. */
    final List<Integer> containsAllCalls = new ArrayList<>();
    /** Sizes of the closeAll calls so far, in order. */
    final List<Integer> closeAllCalls = new ArrayList<>();
    final AtomicInteger getCalls = new AtomicInteger();
    final AtomicInteger containsCalls = new AtomicInteger();
    /** Buffers handed out and not closed yet. */
    final AtomicInteger open = new AtomicInteger();
    /** When true, every buffer says it is no longer intact, as a pool's whose hold outlived its lease. */
    volatile boolean brokenHolds;

    InPlaceTier(long budgetBytes, long chunkBytes) {
        super(budgetBytes, chunkBytes);
    }

    @Override
    public String name() {
        return "pool";
    }

    @Override
    public boolean servesInPlace() {
        return true;
    }

    @Override
    public boolean prefersBatches() {
        return true;
    }

    @Override
    public synchronized List<Optional<ChunkBuffer>> getAll(List<ChunkKey> keys) {
        getAllCalls.add(keys.size());
        List<Optional<ChunkBuffer>> out = new ArrayList<>();
        for (ChunkKey k : keys) {
            out.add(held(k));
        }
        return out;
    }

    @Override
    public synchronized void closeAll(List<ChunkBuffer> buffers) {
        closeAllCalls.add(buffers.size());
        buffers.forEach(ChunkBuffer::close);
    }

    @Override
    public synchronized boolean[] containsAll(List<ChunkKey> keys) {
        containsAllCalls.add(keys.size());
        boolean[] found = new boolean[keys.size()];
        for (int i = 0; i < found.length; i++) {
            found[i] = store.contains(keys.get(i));
        }
        return found;
    }

    @Override
    public boolean contains(ChunkKey key) {
        containsCalls.incrementAndGet();
        return store.contains(key);
    }

    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        getCalls.incrementAndGet();
        return held(key);
    }

    private Optional<ChunkBuffer> held(ChunkKey key) {
        return store.get(key).map(b -> {
            open.incrementAndGet();
            return new ChunkBuffer() {
                private boolean closed;

                @Override
                public ChunkKey key() {
                    return b.key();
                }

                @Override
                public MemorySegment segment() {
                    return b.segment();
                }

                @Override
                public boolean intact() {
                    return !brokenHolds;
                }

                @Override
                public synchronized void close() {
                    if (!closed) {
                        closed = true;
                        open.decrementAndGet();
                        b.close();
                    }
                }
            };
        });
    }
}
