package org.lmcache4j.storage;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes chunks to a slower tier behind the engine's back: {@link #offer} never blocks; when the
 * bounded queue is full the chunk is dropped and counted (it stays in the faster tier, and is demoted
 * later if evicted). Each queued chunk holds its cpu page (so it cannot be evicted or freed before it is
 * written). One daemon thread per slower tier does the writes; {@link #close} drains the queue (bounded
 * in time) so a clean shutdown leaves everything on the slower tier for the next process.
 */
final class WriteBehind implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WriteBehind.class);
    private static final long DRAIN_TIMEOUT_MILLIS = 30_000;

    private final GuardedTier target;
    private final java.util.function.Consumer<ChunkKey> onWritten;
    private final BlockingQueue<ChunkBuffer> queue;
    private final Thread worker;
    private final LongAdder written = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    // Held by the worker while it takes and writes a chunk (not fair: a fair lock changed the remote tests' timing).
    private final ReentrantLock writing = new ReentrantLock();
    private volatile boolean closing;

    /** @param onWritten told the key of each chunk written */
    WriteBehind(GuardedTier target, int capacityChunks, java.util.function.Consumer<ChunkKey> onWritten) {
        this.target = target;
        this.onWritten = onWritten;
        this.queue = new ArrayBlockingQueue<>(capacityChunks);
        this.worker = Thread.ofPlatform().daemon().name("lmcache-write-behind-" + target.name()).unstarted(this::run);
        worker.start();
    }

    /** Queues {@code chunk} (taking over the caller's hold) or, when full or closing, drops and releases it. */
    void offer(ChunkBuffer chunk) {
        if (closing || !queue.offer(chunk)) {
            dropped.increment();
            chunk.close();
        }
    }

    /** Chunks waiting now. */
    int depth() {
        return queue.size();
    }

    long written() {
        return written.sum();
    }

    long dropped() {
        return dropped.sum();
    }

    private void run() {
        while (!closing || !queue.isEmpty()) {
            writing.lock(); // taken before the poll, so discardPending never misses a chunk in hand
            try {
                ChunkBuffer chunk = queue.poll(100, TimeUnit.MILLISECONDS);
                if (chunk != null) {
                    write(chunk);
                }
            } catch (InterruptedException e) {
                break;
            } finally {
                writing.unlock();
            }
        }
    }

    private void write(ChunkBuffer chunk) {
        try (chunk) {
            if (!target.contains(chunk.key()) && target.put(chunk.key(), chunk.segment())) {
                written.increment();
                onWritten.accept(chunk.key());
            }
        } catch (RuntimeException e) {
            target.failed("write-behind", e, null);
        }
    }

    /**
     * Drops every queued chunk and waits for the write in progress, if any, to finish: after this, no
     * chunk queued before the call reaches the slower tier (so a clear is not undone behind its back).
     */
    void discardPending() {
        writing.lock();
        try {
            for (ChunkBuffer left; (left = queue.poll()) != null; ) {
                left.close();
            }
        } finally {
            writing.unlock();
        }
    }

    /** Stops taking chunks, writes what is queued (for at most 30 s), then releases the rest. */
    @Override
    public void close() {
        closing = true;
        try {
            worker.join(DRAIN_TIMEOUT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (worker.isAlive()) {
            worker.interrupt();
            LOG.warn("write-behind to the {} tier did not drain in {} ms; {} chunks not written", target.name(),
                    DRAIN_TIMEOUT_MILLIS, queue.size());
        }
        for (ChunkBuffer left; (left = queue.poll()) != null; ) {
            left.close();
        }
    }
}
