package org.lmcache4j.storage.tier;

/**
 * The pins of one stored chunk: how many are held, and the latest deadline among them. A chunk is pinned
 * while at least one pin is held and that deadline has not passed; once it has, the pins lapse together
 * (an engine that never unpins cannot keep a chunk for ever). Times are {@code System.nanoTime()} values,
 * compared by difference, so they may wrap. Not thread-safe: the tier's index lock guards it.
 */
public final class NestedPins {

    private int count;
    private long untilNanos;

    /** No pin held. */
    public NestedPins() {
    }

    /** One more pin, until {@code untilNanos}; lapsed pins are dropped first. */
    public void pin(long nowNanos, long untilNanos) {
        if (!pinned(nowNanos)) {
            count = 0;
            this.untilNanos = untilNanos;
        }
        count++;
        if (untilNanos - this.untilNanos > 0) { // the later deadline
            this.untilNanos = untilNanos;
        }
    }

    /** One pin fewer; none held is fine (an unpin after the pins lapsed). */
    public void unpin() {
        if (count > 0) {
            count--;
        }
    }

    /** True while a pin is held and the latest deadline is after {@code nowNanos}. */
    public boolean pinned(long nowNanos) {
        return count > 0 && nowNanos - untilNanos < 0;
    }
}
