package org.lmcache4j.storage.engine;

import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.nativeio.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes chunks to a slower tier behind the engine's back: chunks just stored ({@link #offer}) and chunks
 * the cpu tier evicted ({@link #demote}) share one bounded queue. Neither call blocks: when the queue is
 * full the chunk is dropped and counted (a stored chunk stays in the faster tier and is demoted later if
 * evicted; an evicted one is gone). Each queued chunk holds its cpu page (so it cannot be evicted or freed
 * before it is written). One daemon thread per slower tier does the writes (a put unless the tier holds
 * the chunk already); {@link #close} drains the queue (bounded in time) so a clean shutdown leaves
 * everything on the slower tier for the next process.
 */
final class WriteBehind implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WriteBehind.class);
    private static final long DRAIN_TIMEOUT_MILLIS = 30_000;
    /** The system property naming the writer threads' nice value (0 = the JVM's own priority). */
    static final String NICE_PROPERTY = "lmcache.writeBehind.nice";
    /**
     * Nice value of the writer threads unless {@value #NICE_PROPERTY} says otherwise: normal priority. Nice 19
     * measured no faster prefills right after a store (the slowdown is the kernel's writeback and memory
     * bandwidth, which nice does not govern), and on saturated cores it starved the writers: queued chunks
     * then hold cpu pages and are dropped instead of reaching disk. Operators may still lower it.
     */
    static final int DEFAULT_NICE = 0;
    private static final AtomicBoolean NICE_WARNED = new AtomicBoolean();

    /** Told of each chunk the target holds after its turn in the queue. */
    @FunctionalInterface
    interface Listener {
        /** {@code key} is in the target now: put there by this writer ({@code written}), or found there. */
        void placed(ChunkKey key, boolean written);
    }

    /** A queued chunk; a demotion was evicted from the cpu tier, its page held only by this job. */
    private record Job(ChunkBuffer chunk, boolean demotion) {
    }

    private final GuardedTier target;
    private final Listener listener;
    private final BlockingQueue<Job> queue;
    private final Thread worker;
    private final LongAdder written = new LongAdder();
    private final LongAdder demoted = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    // Held by the worker while it takes and writes a chunk (not fair: a fair lock changed the remote tests' timing).
    private final ReentrantLock writing = new ReentrantLock();
    private volatile boolean closing;

    /** @param listener told of each chunk the target holds after its turn, on the writer's thread */
    WriteBehind(GuardedTier target, int capacityChunks, Listener listener) {
        this.target = target;
        this.listener = listener;
        this.queue = new ArrayBlockingQueue<>(capacityChunks);
        this.worker = Thread.ofPlatform().daemon().name("lmcache-write-behind-" + target.name()).unstarted(this::run);
        worker.start();
    }

    /** Queues a chunk just stored (taking over the caller's hold) or, when full or closing, drops and releases it. */
    void offer(ChunkBuffer chunk) {
        enqueue(new Job(chunk, false));
    }

    /** Queues a chunk the cpu tier evicted (taking over the caller's hold) or, when full or closing, drops and releases it. */
    void demote(ChunkBuffer chunk) {
        enqueue(new Job(chunk, true));
    }

    private void enqueue(Job job) {
        if (target.identityMismatch().isPresent()) {
            job.chunk().close(); // the tier refuses its place for another identity: nothing to write, nothing dropped
            return;
        }
        if (closing || !queue.offer(job)) {
            dropped.increment();
            job.chunk().close();
        }
    }

    /** Chunks waiting now. */
    int depth() {
        return queue.size();
    }

    long written() {
        return written.sum();
    }

    /** Evicted chunks this writer put into the target. */
    long demoted() {
        return demoted.sum();
    }

    /** Chunks dropped because the queue was full or closing. */
    long dropped() {
        return dropped.sum();
    }

    private void run() {
        lowerPriority(Integer.getInteger(NICE_PROPERTY, DEFAULT_NICE));
        while (!closing || !queue.isEmpty()) {
            writing.lock(); // taken before the poll, so discardPending never misses a chunk in hand
            try {
                Job job = queue.poll(100, TimeUnit.MILLISECONDS);
                if (job != null) {
                    write(job);
                }
            } catch (InterruptedException e) {
                break;
            } finally {
                writing.unlock();
            }
        }
    }

    /** Gives the calling thread {@code nice}; where the platform cannot, logs once and runs as it is. */
    static boolean lowerPriority(int nice) {
        if (nice == 0) {
            return false;
        }
        Optional<Libc> libc = Libc.instance();
        try {
            if (libc.isPresent()) {
                libc.get().niceCurrentThread(nice);
                return true;
            }
        } catch (RuntimeException e) {
            if (NICE_WARNED.compareAndSet(false, true)) {
                LOG.warn("write-behind threads keep their priority: setpriority(nice {}) failed: {}", nice, e.toString());
            }
            return false;
        }
        if (NICE_WARNED.compareAndSet(false, true)) {
            LOG.warn("write-behind threads keep their priority: libc is not available for setpriority");
        }
        return false;
    }

    private void write(Job job) {
        try (ChunkBuffer chunk = job.chunk()) {
            ChunkKey key = chunk.key();
            boolean present = target.contains(key);
            boolean wrote = !present && target.put(key, chunk.segment());
            if (wrote && !chunk.intact()) { // its hold ended while it was written (a pool slot reused): unwrite it
                target.remove(key);
                dropped.increment();
                LOG.warn("write-behind to the {} tier: chunk {} changed in its source while it was written; removed again",
                        target.name(), key);
                return;
            }
            if (wrote) {
                (job.demotion() ? demoted : written).increment();
            }
            if (present || wrote) {
                listener.placed(key, wrote);
            }
        } catch (RuntimeException e) {
            target.failed(job.demotion() ? "demotion" : "write-behind", e, null);
        }
    }

    /**
     * Drops every queued chunk and waits for the write in progress, if any, to finish: after this, no
     * chunk queued before the call reaches the slower tier (so a clear is not undone behind its back).
     */
    void discardPending() {
        writing.lock();
        try {
            for (Job left; (left = queue.poll()) != null; ) {
                left.chunk().close();
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
        for (Job left; (left = queue.poll()) != null; ) {
            left.chunk().close();
        }
    }
}
