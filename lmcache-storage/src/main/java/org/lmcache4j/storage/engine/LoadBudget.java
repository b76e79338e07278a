package org.lmcache4j.storage.engine;

import java.util.function.LongSupplier;

/**
 * Decides, chunk by chunk, whether loading the next chunk of a prefix still beats recomputing: the
 * engine gets a shorter prefix instead of a slower first token. Two limits, either or both:
 * <ul>
 *   <li>a deadline: the whole load must finish within it;</li>
 *   <li>a recompute rate (tokens/s): the prefix ending at token {@code e} must load faster than the
 *       engine would recompute {@code e} tokens, so a slow tier never makes TTFT worse.</li>
 * </ul>
 * Load times are estimated from each tier's measured bandwidth ({@link GuardedTier#estimateLoadNanos});
 * a {@code lookup} adds up estimates, a {@code retrieve} uses the real time spent so far plus the
 * estimate of the next chunk. One per call; not thread-safe.
 */
final class LoadBudget {

    private static final long NONE = Long.MAX_VALUE;

    private final long deadlineNanos;
    private final double recomputeTokensPerNano;
    private final LongSupplier clock;
    private final long startNanos;
    private final boolean realTime;
    private long estimatedNanos;
    private boolean cut;

    private LoadBudget(long deadlineNanos, double recomputeTokensPerSecond, LongSupplier clock, boolean realTime) {
        this.deadlineNanos = deadlineNanos;
        this.recomputeTokensPerNano = recomputeTokensPerSecond / 1e9;
        this.clock = clock;
        this.startNanos = clock.getAsLong();
        this.realTime = realTime;
    }

    /**
     * @param deadlineNanos            the whole load's limit, or negative for none
     * @param recomputeTokensPerSecond the engine's prefill rate, or 0 when unknown
     * @param realTime                 measure time spent (retrieve) rather than add up estimates (lookup)
     */
    static LoadBudget of(long deadlineNanos, double recomputeTokensPerSecond, LongSupplier clock, boolean realTime) {
        return new LoadBudget(deadlineNanos < 0 ? NONE : deadlineNanos, recomputeTokensPerSecond, clock, realTime);
    }

    /** True when neither limit is set (every found chunk is used). */
    boolean unlimited() {
        return deadlineNanos == NONE && recomputeTokensPerNano <= 0;
    }

    /** Whether the chunk ending at token {@code end}, of {@code bytes} from {@code tier}, may still be loaded. */
    boolean admit(GuardedTier tier, long bytes, int end) {
        if (unlimited()) {
            return true;
        }
        long next = tier.estimateLoadNanos(bytes);
        long spent = realTime ? clock.getAsLong() - startNanos : estimatedNanos;
        long limit = deadlineNanos;
        if (recomputeTokensPerNano > 0) {
            limit = Math.min(limit, (long) (end / recomputeTokensPerNano));
        }
        if (spent + next > limit) {
            cut = true;
            return false;
        }
        estimatedNanos += next;
        return true;
    }

    /** True when a limit left out a chunk that was cached. */
    boolean cut() {
        return cut;
    }
}
