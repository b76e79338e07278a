package org.lmcache4j.storage;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.PrefixPin;

/** The pins taken by one {@code lookupAndPin}; closing unpins each chunk once. */
final class ChunkPins implements PrefixPin {

    /** One pinned chunk and the tier holding the pin. */
    record Pin(GuardedTier tier, ChunkKey key) {
    }

    private final int tokens;
    private final List<Pin> pins;
    private final Runnable onClose;
    private final AtomicBoolean closed = new AtomicBoolean();

    ChunkPins(int tokens, List<Pin> pins, Runnable onClose) {
        this.tokens = tokens;
        this.pins = List.copyOf(pins);
        this.onClose = onClose;
    }

    @Override
    public int tokens() {
        return tokens;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            onClose.run();
        }
    }

    /** Ends every pin; called by the engine under its open-state guard. */
    void unpinAll() {
        pins.forEach(p -> p.tier().unpin(p.key()));
    }
}
