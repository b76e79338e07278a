package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.testing.FaultyTier;
import org.lmcache4j.testing.SeededKv;

/** A failing tier turns operations into misses and counted errors, never into exceptions in the engine. */
class TierHealthTest {

    @Test
    void aFailingTierIsAMissUntilItRecovers() {
        AtomicReference<FaultyTier> faulty = new AtomicReference<>();
        try (Arena arena = Arena.ofShared();
             TieredCacheEngine engine = new TieredCacheEngine(Engines.config().build(), SMALL, System::nanoTime, tier -> {
                 faulty.set(new FaultyTier(tier));
                 return faulty.get();
             }, java.util.List.of())) {
            int n = 3 * CHUNK;
            int[] tokens = SeededKv.tokens(1, n);
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
            int[] slots = SeededKv.identitySlots(n);
            SeededKv.fill(kv, tokens, slots);
            engine.store(tokens, kv, slots);

            faulty.get().failGets(true);
            faulty.get().failContains(true);
            HostKvMemory target = SeededKv.contiguous(arena, SMALL, n);
            assertEquals(0, engine.lookup(tokens));
            assertEquals(0, engine.retrieve(tokens, target, slots));
            assertTrue(SeededKv.isZero(target, slots, 0, n));
            assertFalse(engine.stats().healthy());
            assertEquals(0, engine.store(tokens, kv, slots), "a store with a failing index stores nothing new");
            var sick = engine.stats();
            // lookup and retrieve fail on chunk 0 and stop; store checks each of its 3 chunks
            assertEquals(5, sick.tierErrors());
            assertEquals(3, sick.storeSkippedChunks(), "the chunks were found stored when published");

            faulty.get().failGets(false);
            faulty.get().failContains(false);
            assertEquals(n, engine.retrieve(tokens, target, slots));
            SeededKv.assertSameKv(kv, slots, target, slots, 0, n);
            assertTrue(engine.stats().healthy(), "healthy again after a success");
        }
    }
}
