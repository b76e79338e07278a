package org.lmcache4j.storage;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Counts the connector's foreground calls in flight (a store or retrieve an engine is waiting for), so
 * that background writers stay out of their way: on a machine of few cores a write-behind that checksums
 * and writes a chunk while the engine copies a prefix back takes a core and memory bandwidth from the
 * very call whose latency is the time to first token. A writer yields for a bounded time only, so
 * back-to-back foreground calls slow the write-behind down but cannot stop it.
 */
final class ForegroundActivity {

    private static final long POLL_NANOS = 200_000;

    private final AtomicInteger active = new AtomicInteger();

    /** A foreground call starts; pair with {@link #end()}. */
    void begin() {
        active.incrementAndGet();
    }

    /** A foreground call ended. */
    void end() {
        active.decrementAndGet();
    }

    /** True while a foreground call runs. */
    boolean busy() {
        return active.get() > 0;
    }

    /** Waits while a foreground call runs, at most {@code maxNanos}; true when it waited at all. */
    boolean awaitQuiet(long maxNanos) {
        if (!busy()) {
            return false;
        }
        long deadline = System.nanoTime() + maxNanos;
        while (busy() && deadline - System.nanoTime() > 0) {
            LockSupport.parkNanos(POLL_NANOS);
        }
        return true;
    }
}
