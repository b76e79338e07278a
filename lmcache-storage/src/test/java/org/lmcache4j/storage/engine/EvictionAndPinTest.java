package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.PrefixPin;
import org.lmcache4j.testing.SeededKv;

/** Eviction under a small budget: least recently used first, never pinned chunks, budget never exceeded. */
class EvictionAndPinTest {

    private static final int BUDGET_CHUNKS = 4;
    private static final long PIN_TIMEOUT_MS = 1_000;

    private final Arena arena = Arena.ofShared();
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private TieredCacheEngine engine;
    private HostKvMemory kv;
    private int[] slots;

    @BeforeEach
    void setUp() {
        engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(BUDGET_CHUNKS * CHUNK_BYTES)
                .pinTimeoutMillis(PIN_TIMEOUT_MS).build(), SMALL, clock::get);
        kv = SeededKv.contiguous(arena, SMALL, CHUNK);
        slots = SeededKv.identitySlots(CHUNK);
    }

    @AfterEach
    void tearDown() {
        engine.close();
        arena.close();
    }

    /** A one-chunk prompt, stored; each seed is a different chunk. */
    private int[] storeOne(int seed) {
        int[] tokens = SeededKv.tokens(seed, CHUNK);
        SeededKv.fill(kv, tokens, slots);
        assertEquals(CHUNK, engine.store(tokens, kv, slots), "store of prompt " + seed);
        assertBudgetHeld();
        return tokens;
    }

    private void assertBudgetHeld() {
        var cpu = engine.stats().tiers().getFirst();
        assertTrue(cpu.usedBytes() <= cpu.capacityBytes(), cpu.usedBytes() + " > " + cpu.capacityBytes());
    }

    @Test
    void leastRecentlyUsedChunksAreEvictedFirst() {
        int[] a = storeOne(1);
        int[] b = storeOne(2);
        int[] c = storeOne(3);
        int[] d = storeOne(4);
        assertEquals(CHUNK, engine.retrieve(a, kv, slots)); // touch a: b is now the oldest
        int[] e = storeOne(5);

        assertEquals(CHUNK, engine.lookup(a));
        assertEquals(0, engine.lookup(b));
        assertEquals(CHUNK, engine.lookup(c));
        assertEquals(CHUNK, engine.lookup(d));
        assertEquals(CHUNK, engine.lookup(e));
        assertEquals(1, engine.stats().evictedChunks());
        assertEquals(BUDGET_CHUNKS, engine.stats().tiers().getFirst().chunks());
    }

    @Test
    void pinnedChunksSurviveAndTheBudgetIsNeverExceeded() {
        int[] a = storeOne(1);
        int[] b = storeOne(2);
        try (PrefixPin pinA = engine.lookupAndPin(a); PrefixPin pinB = engine.lookupAndPin(b)) {
            assertEquals(CHUNK, pinA.tokens());
            assertEquals(CHUNK, pinB.tokens());
            for (int seed = 10; seed < 30; seed++) {
                storeOne(seed);
            }
            assertEquals(CHUNK, engine.lookup(a));
            assertEquals(CHUNK, engine.lookup(b));
        }
        for (int seed = 30; seed < 34; seed++) {
            storeOne(seed);
        }
        assertEquals(0, engine.lookup(a), "unpinned chunks are evictable again");
        assertEquals(0, engine.lookup(b));
    }

    @Test
    void whenEveryChunkIsPinnedAStoreIsDroppedNotForced() {
        PrefixPin[] pins = new PrefixPin[BUDGET_CHUNKS];
        for (int i = 0; i < BUDGET_CHUNKS; i++) {
            pins[i] = engine.lookupAndPin(storeOne(i + 1));
        }
        int[] extra = SeededKv.tokens(99, CHUNK);
        SeededKv.fill(kv, extra, slots);
        assertEquals(0, engine.store(extra, kv, slots));
        assertEquals(1, engine.stats().storeDroppedChunks());
        assertEquals(0, engine.lookup(extra));
        assertBudgetHeld();
        for (PrefixPin p : pins) {
            p.close();
        }
        assertEquals(CHUNK, engine.store(extra, kv, slots));
    }

    @Test
    void pinsExpireAfterTheirTimeout() {
        int[] a = storeOne(1);
        PrefixPin pin = engine.lookupAndPin(a);
        assertEquals(CHUNK, pin.tokens());
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(PIN_TIMEOUT_MS) + 1);
        for (int seed = 10; seed < 10 + BUDGET_CHUNKS; seed++) {
            storeOne(seed);
        }
        assertEquals(0, engine.lookup(a), "an expired pin no longer protects the chunk");
        pin.close(); // closing after expiry and eviction is harmless
        pin.close();
    }

    @Test
    void aPinOnlyHoldsTheChunksFoundAtLookup() {
        int[] two = SeededKv.tokens(5, 2 * CHUNK);
        HostKvMemory big = SeededKv.contiguous(arena, SMALL, 2 * CHUNK);
        int[] bigSlots = SeededKv.identitySlots(2 * CHUNK);
        SeededKv.fill(big, two, bigSlots);
        engine.store(java.util.Arrays.copyOf(two, CHUNK), big, java.util.Arrays.copyOf(bigSlots, CHUNK));
        try (PrefixPin pin = engine.lookupAndPin(two)) {
            assertEquals(CHUNK, pin.tokens());
        }
    }

    @Test
    void aStoreLargerThanTheRoomKeepsItsOwnPrefixAndDropsTheTail() {
        // regression: each new chunk used to evict this store's own first chunks, leaving no usable prefix
        int n = (BUDGET_CHUNKS + 2) * CHUNK;
        int[] tokens = SeededKv.tokens(77, n);
        HostKvMemory big = SeededKv.contiguous(arena, SMALL, n);
        int[] bigSlots = SeededKv.identitySlots(n);
        SeededKv.fill(big, tokens, bigSlots);
        assertEquals(BUDGET_CHUNKS * CHUNK, engine.store(tokens, big, bigSlots));
        assertEquals(1, engine.stats().storeDroppedChunks());
        assertEquals(BUDGET_CHUNKS * CHUNK, engine.lookup(tokens));
        assertBudgetHeld();
    }

    @Test
    void aLateCloseOfAnExpiredPinDoesNotEndANewerPin() {
        // regression: the stale handle's unpin used to cancel the fresh pin of another handle
        int[] a = storeOne(1);
        PrefixPin stale = engine.lookupAndPin(a);
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(PIN_TIMEOUT_MS) + 1);
        try (PrefixPin fresh = engine.lookupAndPin(a)) {
            assertEquals(CHUNK, fresh.tokens());
            stale.close();
            for (int seed = 10; seed < 10 + 2 * BUDGET_CHUNKS; seed++) {
                storeOne(seed);
            }
            assertEquals(CHUNK, engine.lookup(a), "the fresh pin still holds");
        }
    }

    @Test
    void pinsClosedAfterTheirTimeoutLeaveNoHandleBehind() {
        // regression: a close after the deadline did not reach the engine, so the handle stayed tracked forever
        int[] a = storeOne(1);
        PrefixPin[] pins = new PrefixPin[1_000];
        for (int i = 0; i < pins.length; i++) {
            pins[i] = engine.lookupAndPin(a);
        }
        assertEquals(pins.length, engine.livePinCount());
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(PIN_TIMEOUT_MS) + 1);
        for (PrefixPin p : pins) {
            p.close();
        }
        assertEquals(0, engine.livePinCount());
    }

    @Test
    void pinsNeverClosedAreForgottenOnceExpired() {
        // regression: a handle never closed stayed tracked forever
        int[] a = storeOne(1);
        for (int i = 0; i < 1_000; i++) {
            assertEquals(CHUNK, engine.lookupAndPin(a).tokens());
        }
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(PIN_TIMEOUT_MS) - 1);
        assertEquals(1_000, engine.livePinCount(), "still in force just before the timeout");
        clock.addAndGet(1);
        assertEquals(0, engine.livePinCount());
    }

    @Test
    void theTableOfLivePinsIsBounded() {
        int[] a = storeOne(1);
        for (int i = 0; i < PinTable.MAX_LIVE_PINS + 100; i++) {
            engine.lookupAndPin(a);
        }
        long live = engine.livePinCount();
        assertTrue(live <= PinTable.MAX_LIVE_PINS && live > 0, "live pins: " + live);
    }

    @Test
    void aCloseAfterClearDoesNotEndPinsOnReStoredChunks() {
        int[] a = storeOne(1);
        PrefixPin old = engine.lookupAndPin(a);
        engine.clear();
        storeOne(1);
        try (PrefixPin fresh = engine.lookupAndPin(a)) {
            assertEquals(CHUNK, fresh.tokens());
            old.close();
            for (int seed = 10; seed < 10 + 2 * BUDGET_CHUNKS; seed++) {
                storeOne(seed);
            }
            assertEquals(CHUNK, engine.lookup(a));
        }
    }
}
