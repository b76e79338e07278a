package org.lmcache4j.storage;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.PrefixPin;

/**
 * The pins taken by one {@code lookupAndPin}. The first close hands the handle back to the engine,
 * which ends the pins only while they are still in force: after the timeout, the tier has let them
 * lapse and may have pinned the chunks again for another handle, whose pins a late unpin would end.
 */
final class ChunkPins implements PrefixPin {

    /** One pinned chunk and the tier holding the pin. */
    record Pin(GuardedTier tier, ChunkKey key) {
    }

    private final int tokens;
    private final List<Pin> pins;
    private final long deadlineNanos;
    private final LongSupplier nanoClock;
    private final Consumer<ChunkPins> onClose;
    private final AtomicBoolean closed = new AtomicBoolean();

    ChunkPins(int tokens, List<Pin> pins, long deadlineNanos, LongSupplier nanoClock, Consumer<ChunkPins> onClose) {
        this.tokens = tokens;
        this.pins = List.copyOf(pins);
        this.deadlineNanos = deadlineNanos;
        this.nanoClock = nanoClock;
        this.onClose = onClose;
    }

    @Override
    public int tokens() {
        return tokens;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            onClose.accept(this);
        }
    }

    /** True before the deadline, while the tiers still hold the pins. */
    boolean inForce() {
        return nanoClock.getAsLong() - deadlineNanos < 0;
    }

    /** Ends every pin; called by the engine under its open-state guard. */
    void unpinAll() {
        pins.forEach(p -> p.tier().unpin(p.key()));
    }
}
