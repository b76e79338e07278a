package org.lmcache4j.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Runs the copies of one chunk on several threads at once: a scattered copy into engine memory (many
 * runs of a few KiB, one per paged block) reaches a fraction of the memory bandwidth on one thread, and
 * the engine is waiting for it (a retrieve sits on the time to first token). The caller's thread takes the
 * first share; {@code lanes - 1} daemon threads take the others. With one lane everything runs inline.
 */
final class CopyLanes implements AutoCloseable {

    /** Below this many bytes per call, the hand-off costs more than it saves: copy inline. */
    static final long MIN_PARALLEL_BYTES = 1L << 20;

    private final int lanes;
    private final long minParallelBytes;
    private final ExecutorService helpers; // null with one lane

    /** @param lanes threads a copy may use, the caller's included; at least 1 */
    CopyLanes(int lanes) {
        this(lanes, MIN_PARALLEL_BYTES);
    }

    /** @param minParallelBytes copies of fewer bytes run inline (tests use 0 to split every copy) */
    CopyLanes(int lanes, long minParallelBytes) {
        if (lanes < 1) {
            throw new IllegalArgumentException("copy lanes: " + lanes + " (expected: >= 1)");
        }
        this.lanes = lanes;
        this.minParallelBytes = minParallelBytes;
        this.helpers = lanes == 1 ? null
                : Executors.newFixedThreadPool(lanes - 1, Thread.ofPlatform().daemon().name("lmcache-copy-", 0).factory());
    }

    /** One lane: every copy inline. */
    static CopyLanes inline() {
        return new CopyLanes(1);
    }

    int lanes() {
        return lanes;
    }

    /**
     * Calls {@code task} for each of {@code tasks} indexes, split in contiguous shares over the lanes when
     * {@code bytes} is large enough, and returns when all are done; the first failure is rethrown.
     */
    void forEach(int tasks, long bytes, IntConsumer task) {
        int shares = helpers == null || bytes < minParallelBytes ? 1 : Math.min(lanes, tasks);
        if (shares <= 1) {
            for (int i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        List<Future<?>> others = new ArrayList<>(shares - 1);
        for (int s = 1; s < shares; s++) {
            int from = tasks * s / shares;
            int to = tasks * (s + 1) / shares;
            others.add(helpers.submit(() -> {
                for (int i = from; i < to; i++) {
                    task.accept(i);
                }
            }));
        }
        RuntimeException failure = null;
        try {
            for (int i = 0; i < tasks / shares; i++) {
                task.accept(i);
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        for (Future<?> f : others) {
            failure = await(f, failure);
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static RuntimeException await(Future<?> f, RuntimeException failure) {
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

    /** Stops the helper threads (a copy in progress finishes first: they are only idle workers). */
    @Override
    public void close() {
        if (helpers != null) {
            helpers.shutdown();
        }
    }
}
