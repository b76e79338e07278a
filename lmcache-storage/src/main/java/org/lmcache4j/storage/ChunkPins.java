package org.lmcache4j.storage;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.PrefixPin;

/**
 * The pins taken by one {@code lookupAndPin}. Closing ends them once, and only while they are still in
 * force: after the timeout (the tier has let them lapse) or after {@link #invalidate()} (the chunks
 * were cleared), a late close must not end pins that other handles have taken since.
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
    private final AtomicBoolean ended = new AtomicBoolean();

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
        if (ended.compareAndSet(false, true) && nanoClock.getAsLong() - deadlineNanos < 0) {
            onClose.accept(this);
        }
    }

    /** Ends this handle without unpinning (its chunks were removed). */
    void invalidate() {
        ended.set(true);
    }

    /** Ends every pin; called by the engine under its open-state guard. */
    void unpinAll() {
        pins.forEach(p -> p.tier().unpin(p.key()));
    }
}
