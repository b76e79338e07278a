package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LayerwiseRetrieval;
import org.lmcache4j.api.LayerwiseStorage;
import org.lmcache4j.api.LmCacheConfig;

/**
 * The connector's layerwise calls on device KV, end to end on the emulated device (streams in a seeded random order
 * only events constrain), the connector opened as engines open it: a layerwise store fed layer by layer as the
 * engine's stream computes each layer stores what a plain store stores, and a layerwise retrieve has each layer
 * complete when the engine's stream reaches the work queued after {@code awaitLayer} of that layer, ending with the
 * plain retrieve's bytes.
 */
@SuppressWarnings("restricted") // the "engine" reads and writes device memory, which is host memory here
class ConnectorLayerwiseEmulatedTest {

    @AfterEach
    void uninstall() {
        EmulatedEngineProvider.install(null);
    }

    static LongStream seeds() {
        return LongStream.range(0, 9);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void layerwiseCallsMatchThePlainOnesAndEachLayerArrivesBeforeTheEngineReadsIt(long seed) {
        KvScenario s = KvScenario.random(300 + seed, DeviceKvFormat.values()[(int) (seed % 3)], seed % 2 == 0);
        EmulatedDevice plainDevice = new EmulatedDevice(seed); // a connector's close closes its device: one each
        EmulatedEngineProvider.install(plainDevice);
        int[] tokens = new SplittableRandom(seed).ints(s.tokens(), 0, 30_000).toArray();
        int[] slots = slots(s, seed);
        byte[][] computed = s.randomLayers(8);
        LmCacheConfig config = LmCacheConfig.builder().modelId("emulated").chunkTokens(s.chunkTokens()).noLocalDisk()
                .maxLocalCpuBytes(Math.max(1 << 20, 64 * s.layout().chunkBytes(s.chunkTokens()))).build();

        int plainStored;
        byte[][] plainRead;
        try (KvConnector cache = KvConnectors.open(config, s.layout());
             DeviceKv source = new DeviceKv(plainDevice, s, computed);
             DeviceKv target = new DeviceKv(plainDevice, s, s.randomLayers(9))) {
            plainStored = cache.store(tokens, source.memory(), slots);
            cache.retrieve(tokens, target.memory(), slots);
            plainRead = target.read();
        }
        assertTrue(plainStored >= s.chunkTokens() || s.tokens() < s.chunkTokens(), "the scenario stores something");

        List<String> violations = new ArrayList<>();
        EmulatedDevice device = new EmulatedDevice(seed + 1000);
        EmulatedEngineProvider.install(device);
        try (KvConnector cache = KvConnectors.open(config, s.layout());
             DeviceKv source = new DeviceKv(device, s, s.randomLayers(10)); // stale until the engine computes each layer
             DeviceKv target = new DeviceKv(device, s, s.randomLayers(9))) {
            int layerwiseStored;
            try (LayerwiseStorage store = cache.storeLayerwise(tokens, null, source.memory(), slots)) {
                for (int l = 0; l < s.layout().numLayers(); l++) {
                    int layer = l;
                    device.enqueueHost(CudaStream.LEGACY_DEFAULT, () -> tensor(source, s, layer).copyFrom(MemorySegment.ofArray(computed[layer])));
                    store.layerDone(l);
                }
                layerwiseStored = store.join();
            }
            assertEquals(plainStored, layerwiseStored, "tokens stored");
            try (LayerwiseRetrieval load = cache.retrieveLayerwise(tokens, null, target.memory(), slots)) {
                for (int l = 0; l < s.layout().numLayers(); l++) {
                    int layer = l;
                    load.awaitLayer(l);
                    device.enqueueHost(CudaStream.LEGACY_DEFAULT, () -> { // the engine's attention of this layer
                        if (!Arrays.equals(plainRead[layer], tensor(target, s, layer).toArray(JAVA_BYTE))) {
                            violations.add("layer " + layer + " was not complete when the engine's stream reached it");
                        }
                    });
                }
            }
            device.settle();
            assertEquals(List.of(), violations, s::toString);
            byte[][] read = target.read();
            for (int l = 0; l < read.length; l++) {
                assertArrayEquals(plainRead[l], read[l], "layer " + l + " as a plain retrieve leaves it, " + s);
            }
        }
        device.assertNothingHeld();
    }

    /**
     * Closing the connector ends its layerwise calls on device KV: an open retrieve completes, a store short of its
     * last layer fails. (On one device, layerwise copies take turns: each call is tried with its own connector.)
     */
    @Test
    void closingTheConnectorEndsItsDeviceLayerwiseCalls() {
        Layered setup = Layered.of(400);
        long seed = setup.seed();
        KvScenario s = setup.scenario();
        int[] tokens = setup.tokens();
        int[] slots = setup.slots();
        LmCacheConfig config = setup.config();

        EmulatedDevice device = new EmulatedDevice(seed);
        EmulatedEngineProvider.install(device);
        KvConnector cache = KvConnectors.open(config, s.layout());
        DeviceKv source = new DeviceKv(device, s, s.randomLayers(1));
        DeviceKv target = new DeviceKv(device, s, s.randomLayers(2));
        assertTrue(cache.store(tokens, source.memory(), slots) > 0);
        LayerwiseRetrieval load = cache.retrieveLayerwise(tokens, null, target.memory(), slots);
        load.awaitLayer(0);
        cache.close();
        load.close(); // returns: the connector ended it (its layers landed, its chunks were released)
        assertThrows(IllegalStateException.class, () -> load.awaitLayer(1), "ended");

        EmulatedDevice second = new EmulatedDevice(seed + 1);
        EmulatedEngineProvider.install(second);
        KvConnector other = KvConnectors.open(config, s.layout());
        DeviceKv written = new DeviceKv(second, s, s.randomLayers(3));
        LayerwiseStorage store = other.storeLayerwise(tokens, null, written.memory(), slots);
        store.layerDone(0);
        other.close();
        IllegalStateException failed = assertThrows(IllegalStateException.class, store::join);
        assertTrue(failed.getMessage().contains("closed"), failed.getMessage());
        store.close();
        assertThrows(IllegalStateException.class, () -> store.layerDone(1));
    }

    /**
     * Regression: a device launch failing in {@code layerDone} threw CudaException out of it (the contract allows only
     * IllegalArgumentException and IllegalStateException), and join then said only that layers were missing.
     */
    @Test
    void aDeviceLayerwiseStoreWhoseLaunchFailsReportsItFromJoinAndKeepsNothing() {
        Layered setup = Layered.of(500);
        long seed = setup.seed();
        KvScenario s = setup.scenario();
        int[] tokens = setup.tokens();
        int[] slots = setup.slots();
        LmCacheConfig config = setup.config();
        EmulatedDevice device = new EmulatedDevice(seed);
        EmulatedEngineProvider.install(device);
        try (KvConnector cache = KvConnectors.open(config, s.layout());
             DeviceKv written = new DeviceKv(device, s, s.randomLayers(4))) {
            LayerwiseStorage store = cache.storeLayerwise(tokens, null, written.memory(), slots);
            store.layerDone(0);
            device.failLaunch(device.launches()); // the next launch: layer 1's
            for (int l = 1; l < s.layout().numLayers(); l++) {
                store.layerDone(l); // returns: the failure is the copy's, join reports it
            }
            CudaException failed = assertThrows(CudaException.class, store::join);
            assertTrue(failed.getMessage().contains("cuLaunchKernel"), failed.getMessage());
            store.close();
            assertEquals(0, cache.lookup(tokens), "nothing of the failed store was published");
            assertEquals(0, cache.stats().tiers().getFirst().usedBytes(), "its cpu pages were given back");
        }
        device.assertNothingHeld();
    }

    /**
     * A test's setup: the first random vLLM-format scenario from {@code seed} on with two layers or more and a full
     * chunk, a prompt's tokens and slots for it, and a connector config with a cpu tier of 64 of its chunks (at least
     * 1 MiB) and no disk.
     */
    private record Layered(long seed, KvScenario scenario, int[] tokens, int[] slots, LmCacheConfig config) {
        static Layered of(long seed) {
            KvScenario s = KvScenario.random(seed, DeviceKvFormat.VLLM, true);
            while (s.layout().numLayers() < 2 || s.tokens() < s.chunkTokens()) {
                s = KvScenario.random(++seed, DeviceKvFormat.VLLM, true);
            }
            LmCacheConfig config = LmCacheConfig.builder().modelId("emulated").chunkTokens(s.chunkTokens()).noLocalDisk()
                    .maxLocalCpuBytes(Math.max(1 << 20, 64 * s.layout().chunkBytes(s.chunkTokens()))).build();
            return new Layered(seed, s, new SplittableRandom(seed).ints(s.tokens(), 0, 30_000).toArray(), ConnectorLayerwiseEmulatedTest.slots(s, seed), config);
        }
    }

    /** Every token in device memory, through a shuffled block table (the scenario's own mapping skips some). */
    private static int[] slots(KvScenario s, long seed) {
        int[] table = new int[s.numBlocks()];
        Arrays.setAll(table, i -> i);
        SplittableRandom r = new SplittableRandom(seed + 77);
        for (int i = table.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = table[i];
            table[i] = table[j];
            table[j] = t;
        }
        int[] slots = new int[s.tokens()];
        Arrays.setAll(slots, t -> table[t / s.blockSize()] * s.blockSize() + t % s.blockSize());
        return slots;
    }

    private static MemorySegment tensor(DeviceKv kv, KvScenario s, int layer) {
        return MemorySegment.ofAddress(kv.layerAddress(layer)).reinterpret(s.layerBytes());
    }
}
