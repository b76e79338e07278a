package org.lmcache4j.storage.engine;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import org.lmcache4j.api.StoreHandle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stores an engine started with {@code storeAsync}: a bounded queue and one daemon thread that copies
 * them out of engine memory in order, and the promise that every handle it gives out is done by the end
 * of {@link #close()}.
 *
 * <p>A full queue runs the store on the caller's thread (the handle is done when {@link #submit} returns).
 * Not waiting: the caller would wait for other stores and then still for its own. Not dropping: the
 * copy is the only chance to keep that KV (the engine frees its blocks next), while running inline costs
 * the caller what a synchronous store costs, once, and slows an engine that stores faster than memory
 * copies to the copy rate (back-pressure instead of loss).
 *
 * <p>{@link #close()} takes no new stores, lets the thread finish the queued ones for a bounded time,
 * then fails the rest with an {@link IllegalStateException} and tells the running one to stop at its
 * next chunk. The caller (the connector) then waits for that one under its close lock, so no copy reads
 * engine memory after the connector's close returns.
 */
final class StoreQueue implements AutoCloseable {

    /** Stores waiting at most; each holds the engine's blocks, so the bound is small. */
    static final int DEFAULT_CAPACITY = 16;
    /** How long close lets queued stores finish before failing the rest. */
    static final long DEFAULT_DRAIN_MILLIS = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(StoreQueue.class);

    /** One store's copy; it checks {@code stop} before each chunk and ends early (a shorter prefix) when true. */
    @FunctionalInterface
    interface Copy {
        int run(BooleanSupplier stop);
    }

    private record Job(Copy copy, CompletableFuture<Integer> result) {
    }

    /** Queued by close after the last store: the thread ends when it takes it. */
    private static final Job END = new Job(null, null);

    private final BlockingQueue<Job> queue;
    private final int capacity;
    private final Set<CompletableFuture<Integer>> pending = ConcurrentHashMap.newKeySet();
    private final long drainMillis;
    private final Thread worker;
    private final LongAdder queued = new LongAdder();
    private final LongAdder ranInline = new LongAdder();
    private boolean started; // guarded by this
    private boolean closing; // guarded by this; no job is queued once it is set
    private volatile boolean stopping; // queued jobs fail instead of running; the running one stops at its next chunk

    StoreQueue(int capacity, long drainMillis) {
        if (capacity < 1 || drainMillis < 0) {
            throw new IllegalArgumentException("capacity: " + capacity + ", drainMillis: " + drainMillis
                    + " (expected: capacity >= 1, drainMillis >= 0)");
        }
        this.queue = new ArrayBlockingQueue<>(capacity + 1); // the last place is for END
        this.capacity = capacity;
        this.drainMillis = drainMillis;
        this.worker = Thread.ofPlatform().daemon().name("lmcache-store").unstarted(this::work);
    }

    /** The thread that runs queued stores: engine memory must be readable by it. */
    Thread thread() {
        return worker;
    }

    /**
     * Queues {@code copy} (the thread starts with the first one) or, when the queue is full, runs it now on
     * this thread; either way, the returned handle completes with its result or failure.
     *
     * @throws IllegalStateException once {@link #close()} has begun
     */
    StoreHandle submit(Copy copy) {
        Job job = new Job(copy, new CompletableFuture<>());
        pending.add(job.result());
        job.result().whenComplete((stored, failure) -> pending.remove(job.result()));
        boolean inQueue;
        synchronized (this) {
            if (closing) {
                pending.remove(job.result());
                throw new IllegalStateException("KvConnector closed (expected: calls before close())");
            }
            if (!started) {
                worker.start();
                started = true;
            }
            inQueue = queue.size() < capacity && queue.offer(job);
        }
        if (inQueue) {
            queued.increment();
        } else {
            ranInline.increment();
            if (ranInline.sum() == 1) {
                LOG.info("storeAsync: {} stores already waiting; copying this one on the caller's thread (counted, logged once)",
                        queue.size());
            }
            run(job);
        }
        return StoreHandle.of(job.result());
    }

    /**
     * Waits until every store submitted before this call is done (stored or failed): what {@code clear}
     * does first, so that a store the engine started before it cannot put its chunks back afterwards. Call
     * it without holding the connector's open lock: the stores need it.
     */
    void awaitSubmitted() {
        for (CompletableFuture<Integer> f : List.copyOf(pending)) {
            f.handle((stored, failure) -> null).join();
        }
    }

    /** Stores that went through the queue. */
    long queued() {
        return queued.sum();
    }

    /** Stores that found the queue full and ran on the caller's thread. */
    long ranInline() {
        return ranInline.sum();
    }

    private void work() {
        while (true) {
            Job job;
            try {
                job = queue.take();
            } catch (InterruptedException e) {
                continue; // nothing interrupts this thread on purpose; close() ends it with END
            }
            if (job == END) {
                return;
            }
            run(job);
        }
    }

    private void run(Job job) {
        if (stopping) {
            job.result().completeExceptionally(notRun());
            return;
        }
        try {
            job.result().complete(job.copy().run(() -> stopping));
        } catch (Throwable t) { // the thread must outlive any one store; the engine sees the failure in its handle
            job.result().completeExceptionally(t);
        }
    }

    private static IllegalStateException notRun() {
        return new IllegalStateException("KvConnector closed before this store ran (expected: storeAsync well before close(),"
                + " which waits for queued stores a bounded time)");
    }

    /**
     * Takes no more stores, lets the queued ones run for at most the drain time, then fails those still
     * queued and tells the running one to stop at its next chunk. Returns without waiting for that one:
     * the connector's close lock does. Idempotent.
     */
    @Override
    public void close() {
        boolean wasStarted;
        synchronized (this) {
            if (!closing && started) {
                queue.add(END); // fits: submit leaves one place free; nothing is queued after it
            }
            closing = true;
            wasStarted = started;
        }
        if (wasStarted && drainMillis > 0) { // join(0) would wait for ever
            try {
                worker.join(drainMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (worker.isAlive()) {
            LOG.warn("storeAsync: stores still running {} ms after close began; failing those queued", drainMillis);
        }
        stopping = true; // from now on no store starts copying, and the running one stops at its next chunk
        for (Job left : List.copyOf(queue)) {
            if (left != END && queue.remove(left)) { // END stays: the thread ends on it
                left.result().completeExceptionally(notRun());
            }
        }
    }
}
