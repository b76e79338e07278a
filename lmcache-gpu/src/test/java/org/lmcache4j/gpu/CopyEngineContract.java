package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.spi.ChunkCopy;
import org.lmcache4j.api.spi.HostRegistration;
import org.lmcache4j.api.spi.LayerwiseRetrieve;
import org.lmcache4j.api.spi.LayerwiseStore;

/**
 * What {@link CudaCopyEngine} must do on any device: batch, single-chunk and layerwise gathers and scatters
 * agree byte for byte with {@link ReferenceKvCopy} for randomized problems (every format, aligned and not,
 * negative slots, partial last block and chunk), whether chunk buffers are pageable (staged, pipelined),
 * registered (staged with asynchronous transfers, or zero-copy) or a mix. Run on the CPU emulation by
 * {@link EmulatedCopyEngineTest} and on a real GPU by {@link CudaCopyEngineGpuTest}.
 */
abstract class CopyEngineContract {

    /** How chunk buffers reach the device. */
    enum Transfer {
        PAGEABLE_STAGED(false, false, i -> true),
        REGISTERED_STAGED(true, false, i -> true),
        ZERO_COPY(true, true, i -> true),
        MIXED(true, true, i -> i % 2 == 0);

        final boolean register;
        final boolean zeroCopy;
        final IntPredicate inRegisteredSlab;

        Transfer(boolean register, boolean zeroCopy, IntPredicate inRegisteredSlab) {
            this.register = register;
            this.zeroCopy = zeroCopy;
            this.inRegisteredSlab = inRegisteredSlab;
        }
    }

    /** The device of one test; the emulation draws its stream schedule from {@code seed}. */
    abstract DeviceApi openDevice(long seed);

    /** Called when a test has closed everything it opened on {@code device}. */
    void afterClose(DeviceApi device) {
    }

    static Stream<Arguments> problems() {
        List<Arguments> cases = new ArrayList<>();
        for (DeviceKvFormat format : DeviceKvFormat.values()) {
            for (long seed = 0; seed < 6; seed++) {
                for (Transfer transfer : Transfer.values()) {
                    cases.add(Arguments.of(format, seed, transfer));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} seed {1} {2}")
    @MethodSource("problems")
    void batchGatherAndScatterAgreeWithTheReference(DeviceKvFormat format, long seed, Transfer transfer) {
        roundTrip(KvScenario.random(seed, format, seed % 2 == 0), seed, transfer, Path.BATCH);
    }

    @ParameterizedTest(name = "{0} seed {1} {2}")
    @MethodSource("problems")
    void layerwiseStoreAndRetrieveAgreeWithTheReference(DeviceKvFormat format, long seed, Transfer transfer) {
        roundTrip(KvScenario.random(100 + seed, format, seed % 2 == 1), seed, transfer, Path.LAYERWISE);
    }

    @ParameterizedTest(name = "{0} seed {1} {2}")
    @MethodSource("problems")
    void singleChunkCallsOfTheSpiAgreeWithTheReference(DeviceKvFormat format, long seed, Transfer transfer) {
        roundTrip(KvScenario.random(200 + seed, format, seed % 3 == 0), seed, transfer, Path.SINGLE);
    }

    enum Path { BATCH, LAYERWISE, SINGLE }

    private void roundTrip(KvScenario s, long seed, Transfer transfer, Path path) {
        DeviceApi device = openDevice(seed);
        byte[][] content = s.randomLayers(1);
        try (CudaCopyEngine engine = new CudaCopyEngine(() -> device, transfer.zeroCopy);
             DeviceKv kv = new DeviceKv(device, s, content);
             HostChunks chunks = new HostChunks(s, transfer.inRegisteredSlab)) {
            HostRegistration registration = transfer.register ? engine.registerHost(chunks.slab(0)) : null;
            List<ChunkCopy> copies = chunks.copies();

            List<byte[]> expected = new ArrayList<>();
            for (int i = 0; i < copies.size(); i++) {
                byte[] before = s.randomBytes(copies.get(i).chunk().byteSize(), i); // rows of negative slots keep these
                chunks.set(i, before);
                byte[] e = before.clone();
                ReferenceKvCopy.gather(s, content, copies.get(i).from(), copies.get(i).to(), e);
                expected.add(e);
            }
            switch (path) {
                case BATCH -> engine.gather(kv.memory(), s.slotMapping(), copies);
                case SINGLE -> copies.forEach(c -> engine.gather(kv.memory(), s.slotMapping(), c.from(), c.to(), c.chunk()));
                case LAYERWISE -> {
                    try (LayerwiseStore store = engine.storeLayerwise(kv.memory(), s.slotMapping(), copies, 0)) {
                        for (int l = 0; l < s.layout().numLayers(); l++) {
                            store.layerComputed(l);
                        }
                    }
                }
            }
            for (int i = 0; i < copies.size(); i++) {
                int chunk = i;
                assertArrayEquals(expected.get(i), chunks.bytes(i), () -> "gather of chunk " + chunk + " (" + path + ", "
                        + transfer + "), " + s);
            }

            byte[][] expectedLayers = new byte[content.length][];
            for (int l = 0; l < content.length; l++) {
                expectedLayers[l] = content[l].clone();
            }
            for (int i = 0; i < copies.size(); i++) {
                byte[] payload = s.randomBytes(copies.get(i).chunk().byteSize(), 500 + i);
                chunks.set(i, payload);
                ReferenceKvCopy.scatter(s, payload, expectedLayers, copies.get(i).from(), copies.get(i).to());
            }
            switch (path) {
                case BATCH -> engine.scatter(copies, kv.memory(), s.slotMapping());
                case SINGLE -> copies.forEach(c -> engine.scatter(c.chunk(), kv.memory(), s.slotMapping(), c.from(), c.to()));
                case LAYERWISE -> {
                    try (LayerwiseRetrieve retrieve = engine.retrieveLayerwise(copies, kv.memory(), s.slotMapping(), 0)) {
                        for (int l = 0; l < s.layout().numLayers(); l++) {
                            retrieve.awaitLayer(l);
                        }
                    }
                }
            }
            byte[][] actual = kv.read();
            for (int l = 0; l < actual.length; l++) {
                int layer = l;
                assertArrayEquals(expectedLayers[l], actual[l], () -> "scatter, layer " + layer + " (" + path + ", " + transfer
                        + "), " + s);
            }
            if (registration != null) {
                registration.close();
            }
        }
        afterClose(device);
    }
}
