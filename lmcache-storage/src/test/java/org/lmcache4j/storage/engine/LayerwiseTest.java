package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LayerwiseRetrieval;
import org.lmcache4j.api.LayerwiseStorage;
import org.lmcache4j.testing.SeededKv;

/**
 * Layer-by-layer retrieve and store on host KV: each layer arrives when awaited and not before its copy
 * step ran, a layerwise store equals a plain store byte for byte and reads each layer only after the engine
 * announced it, and every handle ends when the call or the connector is closed early, with nothing leaked.
 */
@Timeout(60)
class LayerwiseTest {

    /** Four layers, so that "later layers not yet there" has layers to look at. */
    private static final KvLayout LAYOUT = KvLayout.standard(4, 2, 8, KvDtype.FP16);
    private static final int CHUNK = 16;
    private static final int N = 3 * CHUNK + 5; // three whole chunks and a tail that is not stored

    private final Arena arena = Arena.ofShared();
    private TieredCacheEngine engine;

    @AfterEach
    void tearDown() {
        if (engine != null) {
            engine.close();
        }
        arena.close();
    }

    private TieredCacheEngine open() {
        return new TieredCacheEngine(Engines.config().maxLocalCpuBytes(64 * LAYOUT.chunkBytes(CHUNK)).build(), LAYOUT);
    }

    /** A prompt's tokens and its KV in a contiguous cache (the reference every test compares with). */
    private HostKvMemory reference(int[] tokens) {
        HostKvMemory kv = SeededKv.contiguous(arena, LAYOUT, tokens.length);
        SeededKv.fill(kv, tokens, SeededKv.identitySlots(tokens.length));
        return kv;
    }

    @Test
    void eachLayerArrivesWhenItsStepRanAndNotBefore() throws Exception {
        engine = open();
        int[] tokens = SeededKv.tokens(1, N);
        HostKvMemory source = reference(tokens);
        int[] slots = SeededKv.identitySlots(N);
        assertEquals(3 * CHUNK, engine.store(tokens, source, slots));

        Semaphore gate = new Semaphore(0);
        engine.layerGate(layer -> gate.acquireUninterruptibly());
        HostKvMemory target = SeededKv.paged(arena, LAYOUT, 20, 4);
        int[] targetSlots = SeededKv.shuffledSlots(2, N, target.numSlots());
        LayerwiseRetrieval load = engine.retrieveLayerwise(tokens, null, target, targetSlots);
        try {
            assertEquals(3 * CHUNK, load.retrievedTokens());
            for (int layer = 0; layer < LAYOUT.numLayers(); layer++) {
                int l = layer;
                CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> load.awaitLayer(l));
                Thread.sleep(30);
                assertFalse(waiting.isDone(), "awaitLayer(" + l + ") returned before its layer was copied");
                for (int later = l; later < LAYOUT.numLayers(); later++) {
                    assertTrue(layerIsZero(target, targetSlots, later), "layer " + later + " written before its step");
                }
                gate.release();
                waiting.get(10, TimeUnit.SECONDS);
                assertLayerEquals(source, slots, target, targetSlots, l, 3 * CHUNK);
                for (int later = l + 1; later < LAYOUT.numLayers(); later++) {
                    assertTrue(layerIsZero(target, targetSlots, later), "layer " + later + " written early");
                }
            }
        } finally {
            gate.release(LAYOUT.numLayers()); // a failed check must not leave the copy thread held
            load.close();
        }
        SeededKv.assertSameKv(source, slots, target, targetSlots, 0, 3 * CHUNK);
        assertTrue(SeededKv.isZero(target, targetSlots, 3 * CHUNK, N), "tokens past the cached prefix untouched");
        engine.clear();
        assertEquals(0, engine.outstandingPages(), "the chunks the load held are released");
    }

    @Test
    void aLayerwiseStoreEqualsAPlainStoreAndReadsEachLayerOnlyAfterItIsDone() throws Exception {
        int[] tokens = SeededKv.tokens(3, N);
        HostKvMemory source = reference(tokens);
        int[] slots = SeededKv.identitySlots(N);

        byte[] plain;
        try (TieredCacheEngine other = open()) {
            assertEquals(3 * CHUNK, other.store(tokens, source, slots));
            plain = retrieveAll(other, tokens);
        }

        engine = open();
        Semaphore stepsDone = new Semaphore(0);
        engine.layerGate(step -> {
            if (step == -2) {
                stepsDone.release();
            }
        });
        HostKvMemory engineKv = SeededKv.contiguous(arena, LAYOUT, N); // the engine writes it layer by layer
        try (LayerwiseStorage store = engine.storeLayerwise(tokens, null, engineKv, slots)) {
            for (int layer = 0; layer < LAYOUT.numLayers(); layer++) {
                copyLayer(source, engineKv, layer, N);
                store.layerDone(layer);
                // the next layer is written only once this one's copy ran: a copy that read ahead would find zeros
                assertTrue(stepsDone.tryAcquire(10, TimeUnit.SECONDS), "layer " + layer + " copied");
            }
            assertEquals(3 * CHUNK, store.join());
        }
        assertArrayEquals(plain, retrieveAll(engine, tokens), "the same bytes as a plain store");
        assertEquals(3 * CHUNK, engine.lookup(tokens));
        assertEquals(3, engine.stats().storedChunks());
    }

    @Test
    void aStoreClosedBeforeItsLastLayerStoresNothingAndFreesItsPages() {
        engine = open();
        int[] tokens = SeededKv.tokens(4, N);
        HostKvMemory source = reference(tokens);
        int[] slots = SeededKv.identitySlots(N);
        LayerwiseStorage store = engine.storeLayerwise(tokens, null, source, slots);
        store.layerDone(0);
        store.layerDone(1);
        assertTrue(engine.outstandingPages() >= 3, "pages reserved for the three chunks");
        store.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, store::join);
        assertTrue(e.getMessage().contains("2 of 4 layers"), e.getMessage());
        assertEquals(0, engine.lookup(tokens));
        assertEquals(0, engine.outstandingPages(), "no page leaked");
        assertThrows(IllegalStateException.class, () -> store.layerDone(2));
    }

    @Test
    void closingTheConnectorEndsEveryLayerwiseCall() throws Exception {
        engine = open();
        int[] tokens = SeededKv.tokens(5, N);
        HostKvMemory source = reference(tokens);
        int[] slots = SeededKv.identitySlots(N);
        engine.store(tokens, source, slots);
        Semaphore gate = new Semaphore(1); // layer 0 passes; layer 1 waits
        engine.layerGate(layer -> gate.acquireUninterruptibly());
        HostKvMemory target = SeededKv.contiguous(arena, LAYOUT, N);
        LayerwiseRetrieval load = engine.retrieveLayerwise(tokens, null, target, slots);
        load.awaitLayer(0);
        int[] other = SeededKv.tokens(6, N);
        LayerwiseStorage store = engine.storeLayerwise(other, null, reference(other), slots);

        CompletableFuture<Void> closing = CompletableFuture.runAsync(engine::close);
        Thread.sleep(50);
        gate.release(100); // the queued steps run; the store's missing layers never come
        closing.get(20, TimeUnit.SECONDS);

        load.close(); // every layer landed (the connector was still open while its steps ran) or the load failed
        try {
            load.awaitLayer(LAYOUT.numLayers() - 1);
            SeededKv.assertSameKv(source, slots, target, slots, 0, 3 * CHUNK);
        } catch (IllegalStateException failed) {
            assertTrue(failed.getMessage().contains("closed"), failed.getMessage());
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, store::join);
        assertTrue(e.getMessage().contains("0 of 4 layers"), e.getMessage());
        store.close();
        assertThrows(IllegalStateException.class, () -> engine.retrieveLayerwise(tokens, null, target, slots));
        assertThrows(IllegalStateException.class, () -> engine.storeLayerwise(tokens, null, target, slots));
    }

    @Test
    void badLayersAreRefused() {
        engine = open();
        int[] tokens = SeededKv.tokens(7, N);
        HostKvMemory source = reference(tokens);
        int[] slots = SeededKv.identitySlots(N);
        engine.store(tokens, source, slots);
        try (LayerwiseRetrieval load = engine.retrieveLayerwise(tokens, null, SeededKv.contiguous(arena, LAYOUT, N), slots)) {
            assertEquals("layer: 4 (expected: 0 to 3)", assertThrows(IllegalArgumentException.class, () -> load.awaitLayer(4)).getMessage());
            assertThrows(IllegalArgumentException.class, () -> load.awaitLayer(-1));
        }
        int[] other = SeededKv.tokens(8, N);
        try (LayerwiseStorage store = engine.storeLayerwise(other, null, reference(other), slots)) {
            assertEquals("layer: 1 (expected: 0, the next layer)",
                    assertThrows(IllegalArgumentException.class, () -> store.layerDone(1)).getMessage());
            store.layerDone(0);
            assertEquals("layerwise store: 1 of 4 layers done (expected: every layer done before join())",
                    assertThrows(IllegalStateException.class, store::join).getMessage());
        }
        assertThrows(IllegalArgumentException.class,
                () -> engine.storeLayerwise(tokens, null, source, new int[N - 1])); // checked at once, as store checks
    }

    @Test
    void aRetrieveWithNothingCachedIsCompleteAtOnce() {
        engine = open();
        int[] tokens = SeededKv.tokens(9, N);
        HostKvMemory target = SeededKv.contiguous(arena, LAYOUT, N);
        try (LayerwiseRetrieval load = engine.retrieveLayerwise(tokens, null, target, SeededKv.identitySlots(N))) {
            assertEquals(0, load.retrievedTokens());
            load.awaitLayer(3);
        }
        assertTrue(SeededKv.isZero(target, SeededKv.identitySlots(N), 0, N));
    }

    private byte[] retrieveAll(TieredCacheEngine e, int[] tokens) {
        HostKvMemory out = SeededKv.contiguous(arena, LAYOUT, tokens.length);
        assertEquals(3 * CHUNK, e.retrieve(tokens, out, SeededKv.identitySlots(tokens.length)));
        var bytes = new java.io.ByteArrayOutputStream();
        for (int layer = 0; layer < LAYOUT.numLayers(); layer++) {
            for (int plane = 0; plane < 2; plane++) {
                bytes.writeBytes(out.plane(layer, plane).toArray(ValueLayout.JAVA_BYTE));
            }
        }
        return bytes.toByteArray();
    }

    /** Copies {@code layer}'s rows (K and V) of the first {@code n} positions from one contiguous cache to another. */
    private static void copyLayer(HostKvMemory from, HostKvMemory to, int layer, int n) {
        for (int plane = 0; plane < 2; plane++) {
            to.plane(layer, plane).asSlice(0, (long) n * LAYOUT.rowBytes())
                    .copyFrom(from.plane(layer, plane).asSlice(0, (long) n * LAYOUT.rowBytes()));
        }
    }

    private static boolean layerIsZero(HostKvMemory kv, int[] slots, int layer) {
        for (int t = 0; t < slots.length; t++) {
            for (int plane = 0; plane < 2; plane++) {
                for (byte b : SeededKv.rowBytes(kv, layer, plane, slots[t])) {
                    if (b != 0) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static void assertLayerEquals(HostKvMemory a, int[] slotsA, HostKvMemory b, int[] slotsB, int layer, int n) {
        for (int t = 0; t < n; t++) {
            for (int plane = 0; plane < 2; plane++) {
                assertArrayEquals(SeededKv.rowBytes(a, layer, plane, slotsA[t]), SeededKv.rowBytes(b, layer, plane, slotsB[t]),
                        "token " + t + " layer " + layer + " plane " + plane);
            }
        }
    }
}
