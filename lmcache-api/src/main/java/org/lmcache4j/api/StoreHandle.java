package org.lmcache4j.api;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The pending result of {@link KvConnector#storeAsync}: done once the connector has copied, out of the
 * engine memory it was given, everything it will ever copy for that call. Until it is done, the engine
 * must not free, reuse or overwrite the slots it passed (vLLM's rule for blocks whose KV is still being
 * saved); once it is done, the connector never reads that memory again.
 *
 * <p>It completes with the number of tokens newly stored (a failing tier is a miss, as in
 * {@link KvConnector#store}, not a failure), or fails with the {@link IllegalStateException} of a
 * connector closed before the copy ran, or with what the copy itself threw (engine memory freed under it,
 * a device copy error). Either way, a done handle means the engine may reuse its memory.
 *
 * <p>The engine cannot complete or cancel a handle: {@link #future()} hands out a dependent copy.
 */
public final class StoreHandle {

    private final CompletableFuture<Integer> result;

    private StoreHandle(CompletableFuture<Integer> result) {
        this.result = result;
    }

    /** The handle of a store that is complete already (a connector that copied on the caller's thread). */
    public static StoreHandle completed(int storedTokens) {
        if (storedTokens < 0) {
            throw new IllegalArgumentException("storedTokens: " + storedTokens + " (expected: >= 0)");
        }
        return new StoreHandle(CompletableFuture.completedFuture(storedTokens));
    }

    /**
     * The handle of a store that completes {@code result} when it no longer reads engine memory. The
     * connector keeps {@code result} to itself, so that only it can complete it.
     */
    public static StoreHandle of(CompletableFuture<Integer> result) {
        if (result == null) {
            throw new IllegalArgumentException("result: null (expected: the future the connector completes)");
        }
        return new StoreHandle(result);
    }

    /** True when the store has finished or failed: the engine may reuse the memory it passed. */
    public boolean isDone() {
        return result.isDone();
    }

    /**
     * Waits, without giving up on interrupts (the memory must stay untouched until the store is done), and
     * returns the tokens newly stored.
     *
     * @throws IllegalStateException when the connector was closed before the copy ran
     * @throws RuntimeException      what the copy threw (errors are rethrown as they are)
     */
    public int join() {
        try {
            return result.join();
        } catch (CompletionException e) {
            throw unwrap(e.getCause() == null ? e : e.getCause());
        }
    }

    /**
     * Waits at most {@code timeout} for the store to be done (finished or failed); true when it is.
     *
     * @throws InterruptedException when interrupted while waiting (the store may still be running)
     */
    public boolean await(Duration timeout) throws InterruptedException {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: a duration >= 0)");
        }
        if (result.isDone()) {
            return true;
        }
        long nanos = timeout.compareTo(Duration.ofDays(365L * 100)) > 0 ? Long.MAX_VALUE : timeout.toNanos();
        try {
            result.get(nanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException | CompletionException e) {
            return true; // done, by failing: join() tells how
        } catch (TimeoutException e) {
            return false;
        }
        return true;
    }

    /**
     * A future completing as the store does, for engines that poll or chain (as vLLM's connector reports
     * finished sends); completing or cancelling it does not affect the store.
     */
    public CompletableFuture<Integer> future() {
        return result.copy();
    }

    @Override
    public String toString() {
        return "StoreHandle[" + (!result.isDone() ? "pending" : result.isCompletedExceptionally() ? "failed" : "stored "
                + result.getNow(0) + " tokens") + "]";
    }

    private static RuntimeException unwrap(Throwable cause) {
        if (cause instanceof RuntimeException r) {
            return r;
        }
        if (cause instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("store failed: " + cause, cause);
    }
}
