package org.lmcache4j.storage.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Counts the connector's foreground calls in flight (a store or retrieve an engine is waiting for), so
 * that optional background work stays out of their way: on a machine of few cores, the cpu tier's
 * prefault refills (faulting in memory ahead of demand) take a core and memory bandwidth from the very
 * call whose latency is the time to first token. A waiter waits for a bounded time only. (The
 * write-behind does not wait: its queued chunks hold cpu pages, and measured under load, a paused writer
 * left stores without pages to evict.)
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
