package org.lmcache4j.storage.copy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Runs the copies of one chunk on several threads at once: a scattered copy into engine memory (many
 * runs of a few KiB, one per paged block) reaches a fraction of the memory bandwidth on one thread, and
 * the engine is waiting for it (a retrieve sits on the time to first token). The caller's thread and
 * {@code lanes - 1} daemon threads claim the copies one at a time. With one lane everything runs inline.
 */
public final class CopyLanes implements AutoCloseable {

    /** Below this many bytes per call, the hand-off costs more than it saves: copy inline. */
    static final long MIN_PARALLEL_BYTES = 1L << 20;

    private final int lanes;
    private final long minParallelBytes;
    private final List<Thread> helperThreads = new ArrayList<>(); // every thread the pool started: close joins them
    private final ExecutorService helpers; // null with one lane

    /** @param lanes threads a copy may use, the caller's included; at least 1 */
    public CopyLanes(int lanes) {
        this(lanes, MIN_PARALLEL_BYTES);
    }

    /** @param minParallelBytes copies of fewer bytes run inline (tests use 0 to split every copy) */
    CopyLanes(int lanes, long minParallelBytes) {
        if (lanes < 1) {
            throw new IllegalArgumentException("copy lanes: " + lanes + " (expected: >= 1)");
        }
        this.lanes = lanes;
        this.minParallelBytes = minParallelBytes;
        this.helpers = lanes == 1 ? null : startedPool(lanes - 1);
    }

    /**
     * A pool whose threads run from now on: a fixed pool starts a thread at its first task otherwise, and
     * that first task is a retrieve's copy, with the engine waiting (one of the first-use costs found when
     * the first chat hit after the demo reopened its connector took 1.8-1.9x a plain copy, later ones ~1x).
     */
    private ExecutorService startedPool(int threads) {
        java.util.concurrent.ThreadFactory named = Thread.ofPlatform().daemon().name("lmcache-copy-", 0).factory();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new SpinningQueue(), r -> {
            Thread t = named.newThread(r);
            started(t);
            return t;
        });
        pool.prestartAllCoreThreads();
        return pool;
    }

    /**
     * How long an idle helper polls for the next copy before it parks, and the caller for a helper's last index
     * before it waits on it: a retrieve hands its lanes one chunk after another (a 3 MiB chunk every ~150 us), and
     * waking a parked thread takes tens of microseconds on a virtual machine, per chunk and per side.
     */
    static final long SPIN_NANOS = 200_000;

    /** The helpers' queue: an idle helper polls it for {@link #SPIN_NANOS} before it blocks (and must be woken). */
    private static final class SpinningQueue extends LinkedBlockingQueue<Runnable> {
        @java.io.Serial
        private static final long serialVersionUID = 1L;

        @Override
        public Runnable take() throws InterruptedException {
            long deadline = System.nanoTime() + SPIN_NANOS;
            do {
                Runnable r = poll();
                if (r != null) {
                    return r;
                }
                Thread.onSpinWait();
            } while (System.nanoTime() - deadline < 0 && !Thread.currentThread().isInterrupted());
            return super.take();
        }
    }

    private synchronized void started(Thread t) {
        helperThreads.add(t);
    }

    private synchronized List<Thread> threads() {
        return List.copyOf(helperThreads);
    }

    /** One lane: every copy inline. */
    static CopyLanes inline() {
        return new CopyLanes(1);
    }

    int lanes() {
        return lanes;
    }

    /**
     * Calls {@code task} for each of {@code tasks} indexes, on the caller's thread and, when {@code bytes}
     * is large enough, on up to {@code lanes - 1} helper threads, and returns when all are done; the first
     * failure is rethrown (the other threads stop claiming indexes).
     *
     * <p>Indexes are claimed one at a time rather than split in fixed shares: a helper that is slow to
     * wake (a parked thread takes tens of microseconds on a virtual machine, a core busy with the JIT or
     * the write-behind much longer) then takes fewer, and the caller never waits for work a helper has not
     * started: a helper share that has not begun when the caller runs out of indexes is called off.
     */
    void forEach(int tasks, long bytes, IntConsumer task) {
        int shares = helpers == null || bytes < minParallelBytes ? 1 : Math.min(lanes, tasks);
        if (shares <= 1) {
            for (int i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        Claims claims = new Claims(tasks, task);
        List<HelperShare> others = new ArrayList<>(shares - 1);
        for (int s = 1; s < shares; s++) {
            HelperShare share = new HelperShare(claims);
            share.future = helpers.submit(share);
            others.add(share);
        }
        RuntimeException failure = null;
        try {
            claims.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        for (HelperShare share : others) {
            if (!share.callOff()) { // it began: wait for the index it is on
                failure = await(share.future, failure);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The indexes of one {@link #forEach}, claimed one at a time by whichever thread is free. */
    private static final class Claims {
        private final int tasks;
        private final IntConsumer task;
        private final AtomicInteger next = new AtomicInteger();
        private volatile boolean failed;

        Claims(int tasks, IntConsumer task) {
            this.tasks = tasks;
            this.task = task;
        }

        void run() {
            try {
                for (int i; !failed && (i = next.getAndIncrement()) < tasks; ) {
                    task.accept(i);
                }
            } catch (RuntimeException | Error e) {
                failed = true;
                throw e;
            }
        }
    }

    /** A helper's part of one {@link #forEach}: runs unless the caller called it off before it began. */
    private static final class HelperShare implements Runnable {
        private final Claims claims;
        private final AtomicBoolean begun = new AtomicBoolean();
        Future<?> future;

        HelperShare(Claims claims) {
            this.claims = claims;
        }

        @Override
        public void run() {
            if (begun.compareAndSet(false, true)) {
                claims.run();
            }
        }

        /** True when the share had not begun and now never will. */
        boolean callOff() {
            return begun.compareAndSet(false, true);
        }
    }

    private static RuntimeException await(Future<?> f, RuntimeException failure) {
        long deadline = System.nanoTime() + SPIN_NANOS;
        while (!f.isDone() && System.nanoTime() - deadline < 0) {
            Thread.onSpinWait(); // the helper is on its last index: spinning spares a wake-up
        }
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    f.get();
                    return failure;
                } catch (InterruptedException e) {
                    interrupted = true; // the copy touches the caller's memory: never return before it ends
                } catch (ExecutionException e) {
                    RuntimeException cause = e.getCause() instanceof RuntimeException r ? r
                            : new IllegalStateException("copy lane failed", e.getCause());
                    if (failure == null) {
                        return cause;
                    }
                    failure.addSuppressed(cause);
                    return failure;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Stops the helper threads and waits up to a second for them to end (a copy in progress finishes
     * first: they are only idle workers), joined, so that none outlives the connector's close.
     */
    @Override
    public void close() {
        if (helpers != null) {
            helpers.shutdown();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                helpers.awaitTermination(1, TimeUnit.SECONDS);
                for (Thread t : threads()) { // a terminated pool's last thread may still be on its way out
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
