package org.lmcache4j.storage.engine;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.storage.copy.DeviceCopiers;
import org.lmcache4j.storage.copy.HostBackedDeviceCopyEngine;

/**
 * The connector with device-resident engine KV: store and retrieve go through the {@code DeviceCopyEngine}
 * that supports the memory ({@link HostBackedDeviceCopyEngine} here), with the same prefix, mask and
 * negative-slot rules as host KV; device KV no engine supports fails with the engines' reason.
 */
class DeviceKvConnectorTest {

    private final Arena arena = Arena.ofShared();

    @AfterEach
    void free() {
        arena.close();
    }

    private DeviceKvMemory deviceKv(KvLayout layout, DeviceKvFormat format, int numBlocks, int blockSize, long seed) {
        long[] addresses = new long[layout.numLayers()];
        SplittableRandom r = new SplittableRandom(seed);
        for (int l = 0; l < addresses.length; l++) {
            MemorySegment tensor = arena.allocate((long) layout.planes() * numBlocks * blockSize * layout.rowBytes(), 256);
            if (seed != 0) {
                byte[] bytes = new byte[(int) tensor.byteSize()];
                r.nextBytes(bytes);
                MemorySegment.copy(bytes, 0, tensor, JAVA_BYTE, 0, bytes.length);
            }
            addresses[l] = tensor.address();
        }
        return new DeviceKvMemory(layout, format, HostBackedDeviceCopyEngine.DEVICE, addresses, numBlocks, blockSize);
    }

    /** Token {@code t}'s KV rows in {@code kv}, every plane and layer, concatenated. */
    private static byte[] rows(DeviceKvMemory kv, int slot) {
        int row = kv.layout().rowBytes();
        byte[] out = new byte[kv.layout().bytesPerToken()];
        int at = 0;
        for (int p = 0; p < kv.layout().planes(); p++) {
            for (int l = 0; l < kv.layout().numLayers(); l++) {
                MemorySegment.copy(HostBackedDeviceCopyEngine.layer(kv, l), JAVA_BYTE, HostBackedDeviceCopyEngine.rowOffset(kv, p, slot),
                        out, at, row);
                at += row;
            }
        }
        return out;
    }

    private static int[] shuffledSlots(int tokens, int numBlocks, int blockSize, long seed) {
        int[] table = new int[numBlocks];
        Arrays.setAll(table, i -> i);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = numBlocks - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = table[i];
            table[i] = table[j];
            table[j] = t;
        }
        int[] slots = new int[tokens];
        Arrays.setAll(slots, t -> table[t / blockSize] * blockSize + t % blockSize);
        return slots;
    }

    @ParameterizedTest
    @EnumSource(DeviceKvFormat.class)
    void storeAndRetrieveDeviceKvThroughTheDeviceCopyEngine(DeviceKvFormat format) {
        KvLayout layout = format == DeviceKvFormat.MLA ? KvLayout.mla(2, 24, KvDtype.BF16) : Engines.SMALL;
        int tokens = 100;
        int[] prompt = new SplittableRandom(3).ints(tokens, 0, 30_000).toArray();
        DeviceKvMemory written = deviceKv(layout, format, 8, 16, 1);
        DeviceKvMemory read = deviceKv(layout, format, 8, 16, 0);
        int[] writtenSlots = shuffledSlots(tokens, 8, 16, 1);
        int[] readSlots = shuffledSlots(tokens, 8, 16, 2);
        try (TieredCacheEngine engine = new TieredCacheEngine(Engines.config().build(), layout)) {
            assertEquals(96, engine.store(prompt, written, writtenSlots));
            boolean[] mask = new boolean[tokens];
            Arrays.fill(mask, 20, tokens, true); // the engine holds the first 20 tokens already
            assertEquals(76, engine.retrieve(prompt, mask, read, readSlots));
            byte[] untouched = new byte[layout.bytesPerToken()];
            for (int t = 0; t < tokens; t++) {
                byte[] expected = t < 20 || t >= 96 ? untouched : rows(written, writtenSlots[t]);
                assertArrayEquals(expected, rows(read, readSlots[t]), "token " + t);
            }
        }
    }

    /**
     * The layerwise calls on device KV go through the device engine's layerwise copies, on the memory's stream: a
     * layerwise store (each layer gathered as announced) and a layerwise retrieve with a mask give the bytes of the
     * plain calls; a store closed before its last layer publishes nothing and frees its pages.
     */
    @ParameterizedTest
    @EnumSource(DeviceKvFormat.class)
    void layerwiseStoreAndRetrieveOfDeviceKv(DeviceKvFormat format) {
        KvLayout layout = format == DeviceKvFormat.MLA ? KvLayout.mla(2, 24, KvDtype.BF16) : Engines.SMALL;
        int tokens = 100;
        int[] prompt = new SplittableRandom(5).ints(tokens, 0, 30_000).toArray();
        DeviceKvMemory written = deviceKv(layout, format, 8, 16, 3).onStream(0x5EED);
        DeviceKvMemory read = deviceKv(layout, format, 8, 16, 0).onStream(0x5EED);
        int[] writtenSlots = shuffledSlots(tokens, 8, 16, 3);
        int[] readSlots = shuffledSlots(tokens, 8, 16, 4);
        try (TieredCacheEngine engine = new TieredCacheEngine(Engines.config().build(), layout)) {
            try (var abandoned = engine.storeLayerwise(prompt, null, written, writtenSlots)) {
                abandoned.layerDone(0);
            }
            assertEquals(0, engine.lookup(prompt), "a store closed early publishes nothing");
            assertEquals(0, engine.outstandingPages(), "and frees its pages");

            try (var store = engine.storeLayerwise(prompt, null, written, writtenSlots)) {
                for (int layer = 0; layer < layout.numLayers(); layer++) {
                    store.layerDone(layer);
                }
                assertEquals(96, store.join());
            }
            boolean[] mask = new boolean[tokens];
            Arrays.fill(mask, 20, tokens, true);
            try (var load = engine.retrieveLayerwise(prompt, mask, read, readSlots)) {
                assertEquals(76, load.retrievedTokens());
                for (int layer = 0; layer < layout.numLayers(); layer++) {
                    load.awaitLayer(layer);
                }
            }
            byte[] untouched = new byte[layout.bytesPerToken()];
            for (int t = 0; t < tokens; t++) {
                byte[] expected = t < 20 || t >= 96 ? untouched : rows(written, writtenSlots[t]);
                assertArrayEquals(expected, rows(read, readSlots[t]), "token " + t);
            }
        }
    }

    @Test
    void aNegativeSlotStopsTheStoreBeforeItsChunk() {
        DeviceKvMemory kv = deviceKv(Engines.SMALL, DeviceKvFormat.VLLM, 8, 16, 1);
        int[] slots = shuffledSlots(64, 8, 16, 1);
        slots[40] = -1;
        try (TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            assertEquals(32, engine.store(new SplittableRandom(4).ints(64, 0, 30_000).toArray(), kv, slots));
        }
    }

    @Test
    void deviceKvNoEngineSupportsFailsWithTheEnginesReason() {
        DeviceKvMemory onDevice0 = new DeviceKvMemory(Engines.SMALL, DeviceKvFormat.VLLM, 0, new long[] {0x1000, 0x2000}, 4, 16);
        try (TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> engine.store(new int[16], onDevice0, new int[16]));
            assertEquals("test engine: device 0 is not host-backed (only device 7; real devices need lmcache-gpu)", e.getMessage());
        }
    }

    @Test
    void withoutAnyDeviceCopyEngineTheMessageNamesTheModule() {
        DeviceCopiers none = new DeviceCopiers(List::of);
        DeviceKvMemory kv = new DeviceKvMemory(Engines.SMALL, DeviceKvFormat.VLLM, 0, new long[] {0x1000, 0x2000}, 4, 16);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> none.require(kv));
        assertTrue(e.getMessage().contains("needs the lmcache-gpu copy engine"), e.getMessage());
    }
}
