package org.lmcache4j.storage.engine;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.PrefixPin;

/**
 * The pins taken by one {@code lookupAndPin}. The first close hands the handle back to the engine,
 * which ends each pin only while it is still in force (before the pin's deadline, and while the engine
 * still tracks the handle): after that, the tier has let it lapse and may have pinned the chunk again
 * for another handle, whose pin a late unpin would end.
 */
final class ChunkPins implements PrefixPin {

    /**
     * One pinned chunk, the tier holding the pin, and the deadline before which unpinning it ends this
     * pin and no other: taken before the tier pinned it, so never later than the tier's own expiry.
     */
    record Pin(GuardedTier tier, ChunkKey key, long deadlineNanos) {

        /** True while an unpin at {@code nowNanos} still ends this pin. */
        boolean inForce(long nowNanos) {
            return nowNanos - deadlineNanos < 0;
        }
    }

    private final int tokens;
    private final List<Pin> pins;
    private final Consumer<ChunkPins> onClose;
    private final AtomicBoolean closed = new AtomicBoolean();

    ChunkPins(int tokens, List<Pin> pins, Consumer<ChunkPins> onClose) {
        this.tokens = tokens;
        this.pins = List.copyOf(pins);
        this.onClose = onClose;
    }

    @Override
    public int tokens() {
        return tokens;
    }

    /** The pins, in prompt order. */
    List<Pin> pins() {
        return pins;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            onClose.accept(this);
        }
    }
}
