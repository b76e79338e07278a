package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.LayerwiseRetrieval;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.SeededKv;

/**
 * A tier that serves hits in place from behind a round trip (the node-shared pool) costs a retrieve one call to
 * hold the rest of the prompt and one to release it, not one per chunk; a lookup asks the prompt's presence in one
 * call. Whatever the walk does not take (it stopped early) is released with the call; every byte is the stored one.
 */
class InPlaceBatchEngineTest {

    private static final int CHUNKS = 12;

    private final LmCacheConfig config = Engines.config().build();
    private InPlaceTier pool;
    private Arena arena;
    private int[] tokens;
    private HostKvMemory source;
    private int[] sourceSlots;

    @BeforeEach
    void storeAPromptInThePool() throws Exception {
        pool = new InPlaceTier(4 * CHUNKS * Engines.CHUNK_BYTES, Engines.CHUNK_BYTES);
        arena = Arena.ofShared();
        try (TieredCacheEngine writer = open()) {
            tokens = Engines.storePrompt(writer, arena, 7, CHUNKS);
        } // close drains the write-behind queue into the pool
        assertEquals(CHUNKS, pool.stats().chunks());
        source = SeededKv.contiguous(arena, Engines.SMALL, tokens.length);
        sourceSlots = SeededKv.identitySlots(tokens.length);
        SeededKv.fill(source, tokens, sourceSlots);
        pool.getAllCalls.clear();
        pool.closeAllCalls.clear();
        pool.containsAllCalls.clear();
        pool.getCalls.set(0);
        pool.containsCalls.set(0);
    }

    @AfterEach
    void release() {
        pool.release();
        arena.close();
    }

    private TieredCacheEngine open() {
        return new TieredCacheEngine(config, Engines.SMALL, System::nanoTime, UnaryOperator.identity(), List.of(pool));
    }

    @Test
    void aRetrieveHoldsThePromptInOneCallAndReleasesItInOne() {
        try (TieredCacheEngine reader = open()) {
            HostKvMemory target = SeededKv.paged(arena, Engines.SMALL, tokens.length / 16 + 1, 16);
            int[] slots = SeededKv.shuffledSlots(3, tokens.length, target.numSlots());
            assertEquals(tokens.length, reader.retrieve(tokens, target, slots));
            SeededKv.assertSameKv(source, sourceSlots, target, slots, 0, tokens.length);
            assertEquals(List.of(CHUNKS), pool.getAllCalls, "the prompt held in one call");
            assertEquals(0, pool.getCalls.get(), "no chunk held on its own");
            assertEquals(List.of(CHUNKS), pool.closeAllCalls, "the prompt released in one call");
            assertEquals(0, pool.open.get(), "buffers left open");
            assertEquals(0, reader.lookupByTier(tokens).get("cpu"), "served in place: not promoted into the cpu tier");
        }
    }

    @Test
    void aWalkThatStopsEarlyReleasesWhatItDidNotTake() {
        try (TieredCacheEngine reader = open()) {
            assertTrue(pool.remove(reader.chunks(tokens).key(5)));
            HostKvMemory target = SeededKv.contiguous(arena, Engines.SMALL, tokens.length);
            int[] slots = SeededKv.identitySlots(tokens.length);
            assertEquals(5 * Engines.CHUNK, reader.retrieve(tokens, target, slots));
            SeededKv.assertSameKv(source, sourceSlots, target, slots, 0, 5 * Engines.CHUNK);
            assertEquals(List.of(CHUNKS), pool.getAllCalls);
            assertEquals(0, pool.open.get(), "the chunks after the miss, held and not taken, are released");
            assertEquals(List.of(CHUNKS - 1), pool.closeAllCalls, "taken and untaken released together");
        }
    }

    @Test
    void aLookupAsksThePromptsPresenceInOneCall() {
        try (TieredCacheEngine reader = open()) {
            assertEquals(tokens.length, reader.lookup(tokens));
            assertEquals(List.of(CHUNKS), pool.containsAllCalls);
            assertEquals(0, pool.containsCalls.get(), "no chunk asked on its own");
            assertEquals(0, pool.open.get());
        }
    }

    @Test
    void aLayerwiseRetrieveKeepsItsChunksUntilItsLayersAreCopied() throws Exception {
        try (TieredCacheEngine reader = open()) {
            HostKvMemory target = SeededKv.contiguous(arena, Engines.SMALL, tokens.length);
            int[] slots = SeededKv.identitySlots(tokens.length);
            try (LayerwiseRetrieval r = reader.retrieveLayerwise(tokens, null, target, slots)) {
                assertEquals(tokens.length, r.retrievedTokens());
                for (int layer = 0; layer < Engines.SMALL.numLayers(); layer++) {
                    r.awaitLayer(layer);
                }
            }
            SeededKv.assertSameKv(source, sourceSlots, target, slots, 0, tokens.length);
            assertEquals(List.of(CHUNKS), pool.getAllCalls);
            assertEquals(0, pool.open.get(), "every chunk released once its layers were copied");
        }
    }
}
