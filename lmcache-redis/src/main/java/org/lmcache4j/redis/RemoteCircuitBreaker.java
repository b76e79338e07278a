package org.lmcache4j.redis;

import java.util.function.LongSupplier;

/**
 * Keeps calls away from a remote store that is down: after {@code failureThreshold} consecutive failures
 * the circuit opens and every call is refused at once for {@code openNanos}; then one call is let through
 * as a probe (half-open): its success closes the circuit, its failure opens it again. Thread-safe.
 */
final class RemoteCircuitBreaker {

    enum State { CLOSED, OPEN, HALF_OPEN }

    private final int failureThreshold;
    private final long openNanos;
    private final LongSupplier nanoClock;
    private State state = State.CLOSED;
    private int consecutiveFailures;
    private long openedAt;
    private long opened; // times the circuit opened

    RemoteCircuitBreaker(int failureThreshold, long openNanos, LongSupplier nanoClock) {
        if (failureThreshold < 1 || openNanos < 0) {
            throw new IllegalArgumentException("failureThreshold: " + failureThreshold + ", openNanos: " + openNanos
                    + " (expected: >= 1 and >= 0)");
        }
        this.failureThreshold = failureThreshold;
        this.openNanos = openNanos;
        this.nanoClock = nanoClock;
    }

    /**
     * True when a call may go ahead now: the circuit is closed, or it has been open long enough and this
     * call becomes the probe. A caller that got true must report {@link #succeeded} or {@link #failed}.
     */
    synchronized boolean tryAcquire() {
        switch (state) {
            case CLOSED -> {
                return true;
            }
            case HALF_OPEN -> {
                return false; // a probe is under way
            }
            default -> {
                if (nanoClock.getAsLong() - openedAt < openNanos) {
                    return false;
                }
                state = State.HALF_OPEN;
                return true;
            }
        }
    }

    /** Milliseconds until the open circuit lets a probe through (0 when closed or due). */
    synchronized long remainingOpenMillis() {
        return state == State.OPEN ? Math.max(0, (openNanos - (nanoClock.getAsLong() - openedAt)) / 1_000_000) : 0;
    }

    /** Records a success; true when it closed the circuit (a probe succeeded). */
    synchronized boolean succeeded() {
        boolean recovered = state != State.CLOSED;
        state = State.CLOSED;
        consecutiveFailures = 0;
        return recovered;
    }

    /**
     * Records a call that ended without a verdict on the server: its thread was interrupted, or some nodes
     * of a cluster answered and others did not. The count of consecutive failures stays as it is (no
     * success resets it, no failure adds to it); when the call was the probe, the next call becomes the
     * probe instead, at once (the open interval has already passed). A call let through while closed
     * that reports this during another call's probe passes the probe on early; the probe's own report
     * still decides.
     */
    synchronized void released() {
        if (state == State.HALF_OPEN) {
            state = State.OPEN;
            openedAt = nanoClock.getAsLong() - openNanos;
        }
    }

    /**
     * Records a failure and returns the state it moved the circuit from when it opened it ({@code CLOSED}:
     * the threshold was reached; {@code HALF_OPEN}: the probe failed), or null when the state is unchanged.
     */
    synchronized State failed() {
        consecutiveFailures++;
        if (state == State.HALF_OPEN || state == State.CLOSED && consecutiveFailures >= failureThreshold) {
            State from = state;
            state = State.OPEN;
            openedAt = nanoClock.getAsLong();
            opened++;
            return from;
        }
        return null;
    }

    synchronized State state() {
        return state;
    }

    /** Consecutive failures so far (0 after a success). */
    synchronized int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** How many times the circuit has opened. */
    synchronized long timesOpened() {
        return opened;
    }
}
