package org.lmcache4j.storage.engine;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Runs a connector's prefetches on one background thread, and keeps the promise that every future it
 * hands out completes: with the prefetch's result, its failure, or, for prefetches still queued when
 * the connector closes, an {@link IllegalStateException} saying so. Not {@code supplyAsync}: close
 * cannot see the futures of tasks in an executor's queue.
 */
final class Prefetcher implements AutoCloseable {

    private final ExecutorService executor =
            Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("lmcache-prefetch").factory());
    private final Set<CompletableFuture<Integer>> pending = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;

    /** Queues {@code work}; the returned future completes with its result or failure, or at close. */
    CompletableFuture<Integer> submit(Supplier<Integer> work) {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        pending.add(result);
        result.whenComplete((hit, failure) -> pending.remove(result));
        executor.execute(() -> {
            if (result.isDone()) {
                return; // completed by close(), or cancelled
            }
            try {
                result.complete(work.get());
            } catch (RuntimeException | Error e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /**
     * True once the connector started closing: a running prefetch checks it before each chunk and stops,
     * instead of holding close up.
     */
    boolean closing() {
        return closing;
    }

    /** Tells a running prefetch to stop at its next chunk; call before waiting for it. */
    void startClosing() {
        closing = true;
    }

    /** Drops queued prefetches and completes their futures exceptionally. */
    @Override
    public void close() {
        closing = true;
        executor.shutdownNow();
        for (CompletableFuture<Integer> queued : pending) {
            queued.completeExceptionally(new IllegalStateException("KvConnector closed before the prefetch ran"));
        }
    }
}
