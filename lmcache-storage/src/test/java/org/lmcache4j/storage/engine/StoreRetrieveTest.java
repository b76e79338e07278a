package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.testing.SeededKv;

/** The connector contract on host KV: what is stored comes back byte for byte, as exact prefixes. */
class StoreRetrieveTest {

    private final Arena arena = Arena.ofShared();
    private TieredCacheEngine engine;

    @AfterEach
    void tearDown() {
        if (engine != null) {
            engine.close();
        }
        arena.close();
    }

    @Test
    void retrieveIntoADifferentPagedBufferAtDifferentSlotsIsByteIdentical() {
        engine = Engines.open(Engines.config().build());
        int n = 5 * CHUNK;
        int[] tokens = SeededKv.tokens(1, n);
        HostKvMemory source = SeededKv.contiguous(arena, SMALL, n);
        int[] sourceSlots = SeededKv.identitySlots(n);
        SeededKv.fill(source, tokens, sourceSlots);

        assertEquals(n, engine.store(tokens, source, sourceSlots));

        HostKvMemory target = SeededKv.paged(arena, SMALL, 40, 4);
        int[] targetSlots = SeededKv.shuffledSlots(7, n, target.numSlots());
        assertEquals(n, engine.retrieve(tokens, target, targetSlots));
        SeededKv.assertSameKv(source, sourceSlots, target, targetSlots, 0, n);
    }

    /** Blocks allocated apart (as Jlama pages its KV), of a size that is no divisor of the chunk: runs split at block ends. */
    @Test
    void blocksAllocatedApartRoundTripThroughPagedMemory() {
        engine = Engines.open(Engines.config().build());
        int n = 3 * CHUNK + 5;
        int[] tokens = SeededKv.tokens(2, n);
        HostKvMemory source = SeededKv.blocks(arena, SMALL, Math.ceilDiv(n, 7), 7);
        int[] sourceSlots = SeededKv.identitySlots(n);
        SeededKv.fill(source, tokens, sourceSlots);

        assertEquals(3 * CHUNK, engine.store(tokens, source, sourceSlots));

        HostKvMemory paged = SeededKv.paged(arena, SMALL, 40, 4);
        int[] pagedSlots = SeededKv.shuffledSlots(3, n, paged.numSlots());
        assertEquals(3 * CHUNK, engine.retrieve(tokens, paged, pagedSlots));
        SeededKv.assertSameKv(source, sourceSlots, paged, pagedSlots, 0, 3 * CHUNK);

        HostKvMemory blocks = SeededKv.blocks(arena, SMALL, 11, 5);
        int[] blockSlots = SeededKv.identitySlots(n);
        assertEquals(3 * CHUNK, engine.retrieve(tokens, blocks, blockSlots));
        SeededKv.assertSameKv(source, sourceSlots, blocks, blockSlots, 0, 3 * CHUNK);
        assertTrue(SeededKv.isZero(blocks, blockSlots, 3 * CHUNK, n), "rows past the cached prefix untouched");
    }

    @Test
    void retrieveOnAnEmptyCacheReturnsZeroAndLeavesMemoryUntouched() {
        engine = Engines.open(Engines.config().build());
        int n = 3 * CHUNK;
        int[] tokens = SeededKv.tokens(2, n);
        HostKvMemory target = SeededKv.contiguous(arena, SMALL, n);
        int[] slots = SeededKv.identitySlots(n);
        SeededKv.fill(target, SeededKv.tokens(99, n), slots);
        byte[] before = snapshot(target);

        assertEquals(0, engine.lookup(tokens));
        assertEquals(0, engine.retrieve(tokens, target, slots));
        assertArrayEquals(before, snapshot(target));
    }

    @ParameterizedTest(name = "store {0}, retrieve {0}+{1}, saveUnfull={2} -> {3}")
    @CsvSource({
        "70, 30, false, 64",
        "70, 30, true, 70",
        "64, 16, false, 64",
        "64, 16, true, 64",
        "15, 40, false, 0",
        "15, 40, true, 15",
        "70, 0, true, 70",
        "70, 0, false, 64",
    })
    void storeNRetrieveNPlusMHitsTheStoredPrefix(int n, int m, boolean saveUnfull, int expectedHit) {
        engine = Engines.open(Engines.config().saveUnfullChunk(saveUnfull).build());
        int[] longer = SeededKv.tokens(3, n + m);
        int[] prompt = Arrays.copyOf(longer, n);
        HostKvMemory source = SeededKv.contiguous(arena, SMALL, n + m);
        int[] slots = SeededKv.identitySlots(n + m);
        SeededKv.fill(source, longer, slots);
        engine.store(prompt, source, Arrays.copyOf(slots, n));

        HostKvMemory target = SeededKv.paged(arena, SMALL, 32, 8);
        int[] targetSlots = SeededKv.shuffledSlots(11, n + m, target.numSlots());
        assertEquals(expectedHit, engine.lookup(longer));
        assertEquals(expectedHit, engine.retrieve(longer, target, targetSlots));
        SeededKv.assertSameKv(source, slots, target, targetSlots, 0, expectedHit);
        assertTrue(SeededKv.isZero(target, targetSlots, expectedHit, n + m), "tokens past the hit must stay untouched");
    }

    @Test
    void lookupStopsAtTheFirstChunkThatDiffers() {
        engine = Engines.open(Engines.config().build());
        int n = 6 * CHUNK;
        int[] tokens = SeededKv.tokens(4, n);
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
        int[] slots = SeededKv.identitySlots(n);
        SeededKv.fill(kv, tokens, slots);
        engine.store(tokens, kv, slots);

        int[] edited = tokens.clone();
        edited[2 * CHUNK + 5] ^= 1; // inside chunk 2
        assertEquals(n, engine.lookup(tokens));
        assertEquals(2 * CHUNK, engine.lookup(edited));
        int[] firstTokenEdited = tokens.clone();
        firstTokenEdited[0] ^= 1;
        assertEquals(0, engine.lookup(firstTokenEdited));
    }

    @Test
    void equalChunkTokensBehindDifferentPrefixesDoNotHit() {
        engine = Engines.open(Engines.config().build());
        int[] shared = SeededKv.tokens(5, CHUNK);
        int[] a = concat(SeededKv.tokens(6, CHUNK), shared);
        int[] b = concat(SeededKv.tokens(7, CHUNK), shared);
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, 2 * CHUNK);
        int[] slots = SeededKv.identitySlots(2 * CHUNK);
        SeededKv.fill(kv, a, slots);
        engine.store(a, kv, slots);

        assertEquals(2 * CHUNK, engine.lookup(a));
        assertEquals(0, engine.lookup(b));
    }

    @Test
    void aSharedPrefixHitsUnderDifferentSuffixes() {
        engine = Engines.open(Engines.config().build());
        int[] prefix = SeededKv.tokens(8, 4 * CHUNK);
        int[] first = concat(prefix, SeededKv.tokens(9, 2 * CHUNK + 3));
        int[] second = concat(prefix, SeededKv.tokens(10, 40));
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, first.length);
        int[] slots = SeededKv.identitySlots(first.length);
        SeededKv.fill(kv, first, slots);
        engine.store(first, kv, slots);

        HostKvMemory target = SeededKv.contiguous(arena, SMALL, second.length);
        int[] targetSlots = SeededKv.identitySlots(second.length);
        assertEquals(4 * CHUNK, engine.retrieve(second, target, targetSlots));
        SeededKv.assertSameKv(kv, slots, target, targetSlots, 0, 4 * CHUNK);
    }

    @Test
    void aStoreMaskSkipsTheAlreadyStoredPrefix() {
        engine = Engines.open(Engines.config().build());
        int n = 4 * CHUNK;
        int[] tokens = SeededKv.tokens(12, n);
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
        int[] slots = SeededKv.identitySlots(n);
        SeededKv.fill(kv, tokens, slots);
        assertEquals(2 * CHUNK, engine.store(Arrays.copyOf(tokens, 2 * CHUNK), kv, Arrays.copyOf(slots, 2 * CHUNK)));

        boolean[] mask = new boolean[n];
        Arrays.fill(mask, 2 * CHUNK, n, true);
        assertEquals(2 * CHUNK, engine.store(tokens, mask, kv, slots));
        assertEquals(n, engine.lookup(tokens));
        assertEquals(4, engine.stats().storedChunks());
    }

    @Test
    void aRetrieveMaskLeavesTheEnginesOwnPrefixAlone() {
        engine = Engines.open(Engines.config().build());
        int n = 4 * CHUNK;
        int[] tokens = SeededKv.tokens(13, n);
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
        int[] slots = SeededKv.identitySlots(n);
        SeededKv.fill(kv, tokens, slots);
        engine.store(tokens, kv, slots);

        int engineHas = CHUNK + 5; // not chunk aligned, like a vLLM block boundary
        boolean[] mask = new boolean[n];
        Arrays.fill(mask, engineHas, n, true);
        HostKvMemory target = SeededKv.contiguous(arena, SMALL, n);
        assertEquals(n - engineHas, engine.retrieve(tokens, mask, target, slots));
        assertTrue(SeededKv.isZero(target, slots, 0, engineHas), "masked tokens must not be written");
        SeededKv.assertSameKv(kv, slots, target, slots, engineHas, n);
    }

    @Test
    void negativeSlotsAreSkippedOnRetrieveAndStopAStore() {
        engine = Engines.open(Engines.config().build());
        int n = 4 * CHUNK;
        int[] tokens = SeededKv.tokens(14, n);
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
        int[] slots = SeededKv.identitySlots(n);
        SeededKv.fill(kv, tokens, slots);
        int[] holes = slots.clone();
        holes[2 * CHUNK + 1] = -1;
        assertEquals(2 * CHUNK, engine.store(tokens, kv, holes), "store stops before the chunk with a missing token");
        assertEquals(2 * CHUNK, engine.lookup(tokens));

        HostKvMemory target = SeededKv.contiguous(arena, SMALL, n);
        int[] targetSlots = slots.clone();
        targetSlots[3] = -1;
        assertEquals(2 * CHUNK, engine.retrieve(tokens, target, targetSlots));
        assertTrue(SeededKv.isZero(target, slots, 3, 4), "a negative slot is not written");
        SeededKv.assertSameKv(kv, slots, target, slots, 4, 2 * CHUNK);
    }

    @Test
    void storingTwiceCopiesOnceAndCountsTheSkip() {
        engine = Engines.open(Engines.config().build());
        int n = 3 * CHUNK;
        int[] tokens = SeededKv.tokens(15, n);
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
        int[] slots = SeededKv.identitySlots(n);
        SeededKv.fill(kv, tokens, slots);
        assertEquals(n, engine.store(tokens, kv, slots));
        assertEquals(0, engine.store(tokens, kv, slots));
        var stats = engine.stats();
        assertEquals(3, stats.storedChunks());
        assertEquals(3, stats.storeSkippedChunks());
        assertEquals(3 * Engines.CHUNK_BYTES, stats.storedBytes());
        assertEquals(3, stats.tiers().getFirst().chunks());
    }

    @ParameterizedTest
    @EnumSource(HashAlgorithm.class)
    void everyHashAlgorithmAndDtypeRoundTrips(HashAlgorithm algorithm) {
        for (KvLayout layout : new KvLayout[] {KvLayout.standard(3, 1, 16, KvDtype.FP32),
                KvLayout.standard(1, 4, 4, KvDtype.FP8_E4M3), KvLayout.mla(2, 24, KvDtype.BF16)}) {
            try (TieredCacheEngine e = new TieredCacheEngine(Engines.config().hashAlgorithm(algorithm)
                    .maxLocalCpuBytes(16 * layout.chunkBytes(CHUNK)).build(), layout)) {
                int n = 3 * CHUNK;
                int[] tokens = SeededKv.tokens(16, n);
                HostKvMemory kv = SeededKv.contiguous(arena, layout, n);
                int[] slots = SeededKv.identitySlots(n);
                SeededKv.fill(kv, tokens, slots);
                e.store(tokens, kv, slots);
                HostKvMemory target = SeededKv.paged(arena, layout, 12, 4);
                int[] targetSlots = SeededKv.shuffledSlots(17, n, target.numSlots());
                assertEquals(n, e.retrieve(tokens, target, targetSlots), layout.toString());
                SeededKv.assertSameKv(kv, slots, target, targetSlots, 0, n);
            }
        }
    }

    @Test
    void statsCountExactly() {
        engine = Engines.open(Engines.config().build());
        int n = 2 * CHUNK + 4;
        int[] tokens = SeededKv.tokens(18, n);
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
        int[] slots = SeededKv.identitySlots(n);
        SeededKv.fill(kv, tokens, slots);
        engine.store(tokens, kv, slots);
        engine.lookup(tokens);
        engine.retrieve(tokens, kv, slots);
        var s = engine.stats();
        assertEquals(1, s.lookups());
        assertEquals(n, s.lookupTokens());
        assertEquals(2 * CHUNK, s.lookupHitTokens());
        assertEquals(1, s.retrieves());
        assertEquals(2 * CHUNK, s.retrievedTokens());
        assertEquals(2L * CHUNK * SMALL.bytesPerToken(), s.retrievedBytes());
        assertEquals(0, s.tierErrors());
        assertTrue(s.healthy());
    }

    static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static byte[] snapshot(HostKvMemory kv) {
        var out = new java.io.ByteArrayOutputStream();
        for (int layer = 0; layer < kv.layout().numLayers(); layer++) {
            for (int plane = 0; plane < kv.layout().planes(); plane++) {
                out.writeBytes(kv.plane(layer, plane).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
        }
        return out.toByteArray();
    }
}
