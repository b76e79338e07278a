package org.lmcache4j.redis;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The remote tier's usage (chunks and bytes of its namespace) for {@code stats()}, read from the server
 * so that a caller never waits longer than a short bound: one read runs at a time, on a thread of its
 * own, and callers that come meanwhile share it; a caller whose wait runs out gets the last reading. So a
 * metrics scrape against a server that does not answer costs at most the bound, not the client timeout
 * for every meter, and the slow read goes on without anyone waiting.
 */
final class RemoteUsage {

    /** What was read: a namespace's chunks and used bytes, and whether reading it worked. */
    record Reading(long chunks, long usedBytes, boolean ok) {
    }

    private final Supplier<long[]> source;
    private final long waitMillis;
    private volatile Reading last = new Reading(0, 0, true);
    private CompletableFuture<Reading> inFlight; // guarded by this

    /**
     * @param source     {chunks, used bytes}; null when the namespace may not be read (a refused identity);
     *                   throws when the server cannot be reached
     * @param waitMillis the longest {@link #read()} waits for the source
     */
    RemoteUsage(Supplier<long[]> source, long waitMillis) {
        this.source = source;
        this.waitMillis = waitMillis;
    }

    /** A fresh reading when one arrives within the bound; else the last one (its {@code ok} false). */
    Reading read() {
        CompletableFuture<Reading> f;
        synchronized (this) {
            if (inFlight == null) {
                CompletableFuture<Reading> started = new CompletableFuture<>();
                inFlight = started;
                Thread.ofVirtual().name("lmcache-remote-usage").start(() -> {
                    try {
                        started.complete(refresh());
                    } catch (Throwable t) { // an Error: this reading fails, the next call starts a new one
                        synchronized (this) {
                            inFlight = null;
                        }
                        started.completeExceptionally(t);
                    }
                });
            }
            f = inFlight;
        }
        try {
            return f.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            Reading r = last;
            return new Reading(r.chunks(), r.usedBytes(), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Reading r = last;
            return new Reading(r.chunks(), r.usedBytes(), false);
        }
    }

    private Reading refresh() {
        Reading r;
        try {
            long[] u = source.get();
            r = u == null ? new Reading(0, 0, false) : new Reading(u[0], u[1], true);
        } catch (RuntimeException e) {
            Reading before = last;
            r = new Reading(before.chunks(), before.usedBytes(), false);
        }
        synchronized (this) {
            last = r;
            inFlight = null;
        }
        return r;
    }
}
