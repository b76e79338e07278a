package org.lmcache4j.examples.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the units of one kernel call on a fixed set of workers: the caller plus {@code workers - 1}
 * daemon threads, handing out unit indexes from a shared counter. Which worker runs a unit never
 * changes what the unit computes (units write disjoint outputs; a worker index only picks scratch
 * memory), so results do not depend on the number of threads or on timing.
 */
public final class WorkerPool implements AutoCloseable {

    /** One unit of work, given the index of the worker running it (0 to workers - 1). */
    @FunctionalInterface
    public interface Unit {
        void run(int unit, int worker);
    }

    private final int workers;
    private final ExecutorService helpers;

    /** A pool of {@code workers} workers (at least 1). */
    public WorkerPool(int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers: " + workers + " (expected: >= 1)");
        }
        this.workers = workers;
        AtomicInteger ids = new AtomicInteger(1);
        this.helpers = Executors.newFixedThreadPool(Math.max(1, workers - 1),
                r -> Thread.ofPlatform().daemon().name("engine-worker-" + ids.getAndIncrement()).unstarted(r));
    }

    public int workers() {
        return workers;
    }

    /** Runs units {@code 0 .. units - 1} and returns when all are done; rethrows the first failure. */
    public void run(int units, Unit body) {
        if (units <= 0) {
            return;
        }
        AtomicInteger next = new AtomicInteger();
        int extra = Math.min(workers - 1, units - 1);
        List<Future<?>> running = new ArrayList<>(extra);
        for (int w = 1; w <= extra; w++) {
            int worker = w;
            running.add(helpers.submit(() -> drain(next, units, body, worker)));
        }
        Throwable failure = null;
        try {
            drain(next, units, body, 0);
        } catch (RuntimeException | Error e) {
            failure = e;
            next.set(units); // stop handing out units
        }
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (ExecutionException e) {
                failure = merge(failure, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = merge(failure, e);
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException("engine worker failed", failure);
        }
    }

    private static void drain(AtomicInteger next, int units, Unit body, int worker) {
        for (int u; (u = next.getAndIncrement()) < units; ) {
            body.run(u, worker);
        }
    }

    private static Throwable merge(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    @Override
    public void close() {
        helpers.shutdownNow();
    }
}
