package org.lmcache4j.storage.engine;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.lmcache4j.api.ChunkKey;

/**
 * The pin handles of one connector that a close may still end: bounded, and expiring at the pin timeout
 * on the connector's clock, so handles closed late or never leave by themselves.
 *
 * <p>Deadlines are read before any pin is taken ({@link #deadlines()}), so an unpin before a pin's
 * deadline comes before the tier's own expiry of that pin (each tier reads its clock later). In the cpu
 * tier, whose clock is the connector's, each deadline check and its unpin hold the key's stripe, which
 * {@link #pin} holds too: no other handle's pin can restart the tier's count of the key between them.
 * Slower tiers keep a margin instead: the remote tier's pins expire by the server's clock, and an unpin
 * reaches the server a while later.
 */
final class PinTable {

    /**
     * Pin handles tracked at most; past it, handles are forgotten early: their pins then last until the
     * timeout (a close can no longer end them sooner), which is what a handle never closed costs anyway.
     */
    static final int MAX_LIVE_PINS = 1 << 16;
    /** How much earlier than the pin timeout a slower tier's pin stops being unpinned by a close (at most). */
    static final long SLOWER_TIER_UNPIN_MARGIN_NANOS = 5_000_000_000L;
    private static final int CPU_PIN_STRIPES = 64;

    /** The deadlines of the pins one lookupAndPin takes: the cpu tier's, and every slower tier's. */
    record Deadlines(long cpuNanos, long slowerNanos) {
    }

    private final Duration timeout;
    private final LongSupplier nanoClock;
    private final GuardedTier cpuGuard; // null without a cpu tier
    private final Cache<ChunkPins, Boolean> live;
    private final Object[] cpuStripes = new Object[CPU_PIN_STRIPES];

    PinTable(Duration timeout, LongSupplier nanoClock, GuardedTier cpuGuard) {
        this.timeout = timeout;
        this.nanoClock = nanoClock;
        this.cpuGuard = cpuGuard;
        this.live = Caffeine.newBuilder().expireAfterWrite(timeout).maximumSize(MAX_LIVE_PINS)
                .ticker(nanoClock::getAsLong).executor(Runnable::run).build();
        Arrays.setAll(cpuStripes, i -> new Object());
    }

    /** The deadlines of pins taken from now on; read them before pinning. */
    Deadlines deadlines() {
        long timeoutNanos = saturatedNanos(timeout);
        long cpu = nanoClock.getAsLong() + timeoutNanos;
        return new Deadlines(cpu, cpu - Math.min(SLOWER_TIER_UNPIN_MARGIN_NANOS, timeoutNanos / 4));
    }

    /** Pins {@code key} in {@code tier} for the timeout: in the cpu tier under the key's stripe. */
    boolean pin(GuardedTier tier, ChunkKey key) {
        if (tier != cpuGuard) {
            return tier.pin(key, timeout);
        }
        synchronized (stripe(key)) {
            return tier.pin(key, timeout);
        }
    }

    /** The record of a pin of {@code key} just taken in {@code tier}. */
    ChunkPins.Pin pinned(GuardedTier tier, ChunkKey key, Deadlines d) {
        return new ChunkPins.Pin(tier, key, tier == cpuGuard ? d.cpuNanos() : d.slowerNanos());
    }

    /** A handle of {@code pins} covering {@code tokens}, tracked when it holds any; closing it calls {@code onClose}. */
    ChunkPins track(int tokens, List<ChunkPins.Pin> pins, Consumer<ChunkPins> onClose) {
        ChunkPins handle = new ChunkPins(tokens, pins, onClose);
        if (!pins.isEmpty()) {
            live.put(handle, Boolean.TRUE);
        }
        return handle;
    }

    /**
     * Ends the pins of a closed handle that are still in force, unless the handle is no longer tracked (it
     * timed out, was dropped for room, or clear removed its chunks).
     */
    void release(ChunkPins handle) {
        if (live.asMap().remove(handle) == null) {
            return;
        }
        for (ChunkPins.Pin p : handle.pins()) {
            if (p.tier() == cpuGuard) {
                synchronized (stripe(p.key())) {
                    unpinInForce(p);
                }
            } else {
                unpinInForce(p);
            }
        }
    }

    /** Forgets every handle (their chunks are gone; a late close must not unpin new ones). */
    void clear() {
        live.invalidateAll();
    }

    /** Handles tracked now, after dropping the expired ones. */
    long liveCount() {
        live.cleanUp();
        return live.estimatedSize();
    }

    private void unpinInForce(ChunkPins.Pin p) {
        if (p.inForce(nanoClock.getAsLong())) {
            p.tier().unpin(p.key());
        }
    }

    private Object stripe(ChunkKey key) {
        return cpuStripes[Math.floorMod(key.hashCode(), CPU_PIN_STRIPES)];
    }

    /** {@code d} in nanoseconds, or {@code Long.MAX_VALUE} when longer than that (about 292 years). */
    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
