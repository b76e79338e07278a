package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.spi.ChunkCopy;
import org.lmcache4j.api.spi.LayerwiseRetrieve;
import org.lmcache4j.api.spi.LayerwiseStore;

/**
 * Layerwise copies against an engine's stream, on the emulation, where only events order streams: a store
 * copies layer l only after the engine's work on its stream up to {@code layerComputed(l)}; a retrieve
 * writes only after the engine's earlier work, and {@code awaitLayer(l)} holds the engine's stream until
 * layer l, and no more than that layer, is in place.
 */
@SuppressWarnings("restricted") // the "engine" writes and reads device memory, which is host memory here
class EmulatedStreamOrderTest {

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (long seed = 0; seed < 12; seed++) {
            for (CopyEngineContract.Transfer t : List.of(CopyEngineContract.Transfer.PAGEABLE_STAGED,
                    CopyEngineContract.Transfer.REGISTERED_STAGED, CopyEngineContract.Transfer.ZERO_COPY)) {
                cases.add(Arguments.of(seed, t));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "seed {0} {1}")
    @MethodSource("cases")
    void storeCopiesEachLayerOnlyAfterTheEngineComputedIt(long seed, CopyEngineContract.Transfer transfer) {
        KvScenario s = KvScenario.random(seed, DeviceKvFormat.values()[(int) (seed % 3)], seed % 2 == 0);
        EmulatedDevice device = new EmulatedDevice(seed);
        byte[][] computed = s.randomLayers(4);
        try (CudaCopyEngine engine = new CudaCopyEngine(() -> device, transfer.zeroCopy);
             DeviceKv kv = new DeviceKv(device, s, s.randomLayers(3)); // stale until the engine computes each layer
             HostChunks chunks = new HostChunks(s, transfer.inRegisteredSlab)) {
            if (transfer.register) {
                engine.registerHost(chunks.slab(0));
            }
            try (LayerwiseStore store = engine.storeLayerwise(kv.memory(), s.slotMapping(), chunks.copies(), 0)) {
                for (int l = 0; l < s.layout().numLayers(); l++) {
                    int layer = l;
                    device.enqueueHost(CudaStream.LEGACY_DEFAULT, () -> tensor(kv, s, layer).copyFrom(MemorySegment.ofArray(computed[layer])));
                    store.layerComputed(l);
                }
                assertEquals(s.layout().numLayers(), store.layersQueued());
            }
            for (int i = 0; i < chunks.copies().size(); i++) {
                ChunkCopy c = chunks.copies().get(i);
                byte[] expected = new byte[(int) c.chunk().byteSize()];
                ReferenceKvCopy.gather(s, computed, c.from(), c.to(), expected);
                int chunk = i;
                byte[] actual = chunks.bytes(i);
                for (int t = c.from(); t < c.to(); t++) { // rows of negative slots are whatever the buffer held
                    if (s.slotMapping()[t] < 0) {
                        blankRows(s, c, t, expected);
                        blankRows(s, c, t, actual);
                    }
                }
                assertArrayEquals(expected, actual, () -> "chunk " + chunk + " holds KV from before the engine computed it, " + s);
            }
        }
        device.assertNothingHeld();
    }

    @ParameterizedTest(name = "seed {0} {1}")
    @MethodSource("cases")
    void retrieveAnnouncesEachLayerWithItsOwnEvent(long seed, CopyEngineContract.Transfer transfer) {
        KvScenario s = KvScenario.random(50 + seed, DeviceKvFormat.values()[(int) (seed % 3)], seed % 2 == 1);
        EmulatedDevice device = new EmulatedDevice(seed);
        byte[][] initial = s.randomLayers(5);
        byte[][] engineWrites = s.randomLayers(6); // the engine's last work before the retrieve
        List<String> violations = new ArrayList<>();
        try (CudaCopyEngine engine = new CudaCopyEngine(() -> device, transfer.zeroCopy);
             DeviceKv kv = new DeviceKv(device, s, initial);
             HostChunks chunks = new HostChunks(s, transfer.inRegisteredSlab)) {
            if (transfer.register) {
                engine.registerHost(chunks.slab(0));
            }
            byte[][] expected = new byte[engineWrites.length][];
            for (int l = 0; l < engineWrites.length; l++) {
                expected[l] = engineWrites[l].clone();
            }
            for (int i = 0; i < chunks.copies().size(); i++) {
                ChunkCopy c = chunks.copies().get(i);
                byte[] payload = s.randomBytes(c.chunk().byteSize(), 700 + i);
                chunks.set(i, payload);
                ReferenceKvCopy.scatter(s, payload, expected, c.from(), c.to());
            }
            for (int l = 0; l < s.layout().numLayers(); l++) {
                int layer = l;
                device.enqueueHost(CudaStream.LEGACY_DEFAULT, () -> tensor(kv, s, layer).copyFrom(MemorySegment.ofArray(engineWrites[layer])));
            }
            try (LayerwiseRetrieve retrieve = engine.retrieveLayerwise(chunks.copies(), kv.memory(), s.slotMapping(), 0)) {
                for (int l = 0; l < s.layout().numLayers(); l++) {
                    int layer = l;
                    retrieve.awaitLayer(l);
                    device.enqueueHost(CudaStream.LEGACY_DEFAULT, () -> { // the engine's attention of this layer
                        if (!Arrays.equals(expected[layer], tensor(kv, s, layer).toArray(JAVA_BYTE))) {
                            violations.add("layer " + layer + " was not complete when the engine's stream reached it");
                        }
                    });
                }
            }
            device.settle();
            assertEquals(List.of(), violations, s::toString);
            byte[][] actual = kv.read();
            for (int l = 0; l < actual.length; l++) {
                assertArrayEquals(expected[l], actual[l], "layer " + l + ": the retrieve must write after the engine's earlier work");
            }
        }
        device.assertNothingHeld();
    }

    private static MemorySegment tensor(DeviceKv kv, KvScenario s, int layer) {
        return MemorySegment.ofAddress(kv.layerAddress(layer)).reinterpret(s.layerBytes());
    }

    /** Zeroes token {@code t}'s rows in a chunk's bytes (every plane and layer). */
    private static void blankRows(KvScenario s, ChunkCopy c, int t, byte[] chunk) {
        int row = s.layout().rowBytes();
        for (int p = 0; p < s.layout().planes(); p++) {
            for (int l = 0; l < s.layout().numLayers(); l++) {
                int at = ((p * s.layout().numLayers() + l) * c.tokens() + (t - c.from())) * row;
                Arrays.fill(chunk, at, at + row, (byte) 0);
            }
        }
    }
}
