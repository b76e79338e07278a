package org.lmcache4j.storage.disk;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Daemon threads, one per core but one and shared by every reader of the JVM, that each take a share of
 * one read while its owner does the rest ({@link SharedBlockRead}). A helper is offered a job only when it
 * is idle: a reader never waits for a helper to become free, it reads alone.
 *
 * <p>An idle helper spins {@value #SPIN_NANOS} ns for the next job before it parks: a retrieve reads
 * chunk after chunk, and waking a parked thread costs tens of microseconds on a virtual machine, about
 * what a warm 3 MiB chunk takes to read.
 */
final class ReadHelpers {

    /** How long an idle helper spins for the next job before it parks. */
    static final long SPIN_NANOS = 100_000;

    private static final Helper[] HELPERS = new Helper[Math.max(1, Runtime.getRuntime().availableProcessors() - 1)];

    static {
        for (int i = 0; i < HELPERS.length; i++) {
            HELPERS[i] = new Helper();
        }
    }

    private ReadHelpers() {
    }

    /** Gives {@code job} to an idle helper; false (nothing runs it) when every helper is busy. */
    static boolean offer(Runnable job) {
        for (Helper h : HELPERS) {
            if (h.offer(job)) {
                return true;
            }
        }
        return false;
    }

    /**
     * One turn of a spin-wait: a pause, and every 64th turn a yield, so that a spinning thread never keeps
     * the thread it waits for off a shared core for a whole time slice.
     */
    static void relax(int spins) {
        if ((spins & 63) == 0) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    /** One helper thread, started on first use, with a slot for the job it runs next. */
    private static final class Helper implements Runnable {
        private final AtomicBoolean busy = new AtomicBoolean();
        private final AtomicReference<Runnable> slot = new AtomicReference<>();
        private volatile Thread thread;
        private volatile boolean parked;

        boolean offer(Runnable job) {
            if (!busy.compareAndSet(false, true)) {
                return false;
            }
            slot.set(job);
            Thread t = thread;
            if (t == null) {
                synchronized (this) {
                    if (thread == null) {
                        thread = Thread.ofPlatform().daemon().name("lmcache-read-helper").start(this);
                    }
                }
            } else if (parked) {
                LockSupport.unpark(t);
            }
            return true;
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            for (int spins = 1;; spins++) {
                Runnable job = slot.getAndSet(null);
                if (job != null) {
                    try {
                        job.run(); // jobs report their own failures to their owner
                    } finally {
                        busy.set(false);
                    }
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    relax(spins);
                } else {
                    parked = true;
                    if (slot.get() == null) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
