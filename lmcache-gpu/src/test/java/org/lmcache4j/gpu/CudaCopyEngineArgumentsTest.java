package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.ChunkCopy;
import org.lmcache4j.api.spi.HostRegistration;
import org.lmcache4j.api.spi.LayerwiseRetrieve;
import org.lmcache4j.api.spi.LayerwiseStore;

/**
 * Bad calls fail with a message naming the argument, the value and the expectation, before anything
 * reaches the device (a bad slot on a GPU would be an illegal address that ends the context); failures
 * while opening a device free what was taken; a copy failing part-way reports the driver's error and
 * leaves the device usable; a closed engine says so.
 */
class CudaCopyEngineArgumentsTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 2, 8, KvDtype.FP16); // 32-byte rows
    private static final KvScenario S = new KvScenario(1, DeviceKvFormat.VLLM, LAYOUT, 4, 4,
            new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 8, 0, 0);

    /** Runs {@code test} with an engine over the emulation and device KV of {@link #S}; checks nothing leaked. */
    private static void withEngine(Consumer<Fixture> test) {
        EmulatedDevice device = new EmulatedDevice(1);
        try (CudaCopyEngine engine = new CudaCopyEngine(() -> device, true);
             DeviceKv kv = new DeviceKv(device, S, S.randomLayers(1));
             Arena arena = Arena.ofConfined()) {
            test.accept(new Fixture(device, engine, kv.memory(), arena));
        }
        device.assertNothingHeld();
    }

    private record Fixture(EmulatedDevice device, CudaCopyEngine engine, DeviceKvMemory kv, Arena arena) {
        MemorySegment chunk(int tokens) {
            return arena.allocate(LAYOUT.chunkBytes(tokens), 16);
        }
    }

    @Test
    void slotPastTheEngineMemoryIsRejectedBeforeAnyLaunch() {
        withEngine(f -> {
            int[] slots = S.slotMapping().clone();
            slots[3] = 16; // 4 blocks x 4 = slots 0..15
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> f.engine().gather(f.kv(), slots, 0, 8, f.chunk(8)));
            assertEquals("slotMapping[3]: 16 (expected: negative to skip, or 0 to 15 for device KV of 16 slots)", e.getMessage());
            assertEquals(0, f.device().launches());
        });
    }

    @Test
    void chunkBufferTooSmallIsRejected() {
        withEngine(f -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> f.engine().scatter(f.chunk(7), f.kv(), S.slotMapping(), 0, 8));
            assertEquals("chunks[0]: chunk buffer of 896 bytes (expected: at least 1024)", e.getMessage());
            assertEquals(0, f.device().launches());
        });
    }

    @Test
    void heapChunkBufferIsRejected() {
        withEngine(f -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> f.engine().gather(f.kv(), S.slotMapping(), 0, 2, MemorySegment.ofArray(new byte[256])));
            assertEquals("chunks[0]: a heap segment (expected: off-heap memory the device can reach)", e.getMessage());
        });
    }

    @Test
    void tokenRangeOutsideTheSlotMappingIsRejected() {
        withEngine(f -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> f.engine().gather(f.kv(), S.slotMapping(), 8, 12, f.chunk(4)));
            assertEquals("tokens: [8, 12) (expected: 0 <= from <= to <= 10, the length of slotMapping)", e.getMessage());
            IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                    () -> f.engine().gather(f.kv(), S.slotMapping(), List.of(new ChunkCopy(8, 12, f.chunk(4)))));
            assertEquals("chunks[0]: tokens [8, 12) (expected: within the 10 tokens of slotMapping)", batch.getMessage());
        });
    }

    @Test
    void overlappingRegistrationsAreRejected() {
        withEngine(f -> {
            MemorySegment slab = f.arena().allocate(8192, 4096);
            try (HostRegistration r = f.engine().registerHost(slab.asSlice(0, 4096))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> f.engine().registerHost(slab.asSlice(2048, 4096)));
                assertTrue(e.getMessage().startsWith("host memory: 4096 bytes at 0x"), e.getMessage());
                assertTrue(e.getMessage().endsWith(" (expected: disjoint registrations)"), e.getMessage());
                assertEquals(4096, r.memory().byteSize());
            }
            f.engine().registerHost(slab.asSlice(2048, 4096)).close(); // free again once the first is gone
        });
    }

    @Test
    void layerwiseStoreTakesLayersInOrderEachOnce() {
        withEngine(f -> {
            try (LayerwiseStore store = f.engine().storeLayerwise(f.kv(), S.slotMapping(),
                    List.of(new ChunkCopy(0, 8, f.chunk(8))), 0)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.layerComputed(1));
                assertEquals("layer: 1 (expected: 0; layers are stored in order, each once)", e.getMessage());
                store.layerComputed(0);
                e = assertThrows(IllegalArgumentException.class, () -> store.layerComputed(2));
                assertEquals("layer: 2 (expected: 0 to 1)", e.getMessage());
            }
        });
    }

    @Test
    void emptyChunksCopyNothing() {
        withEngine(f -> {
            f.engine().gather(f.kv(), S.slotMapping(), 4, 4, f.chunk(1));
            f.engine().scatter(List.of(), f.kv(), S.slotMapping());
            try (LayerwiseRetrieve r = f.engine().retrieveLayerwise(List.of(), f.kv(), S.slotMapping(), 0)) {
                r.awaitLayer(1);
            }
            assertEquals(0, f.device().launches());
        });
    }

    @Test
    void aKernelLoadTheDriverRejectsMakesSupportsFalseWithTheReasonAndFreesWhatWasTaken() {
        EmulatedDevice device = new EmulatedDevice(1);
        device.rejectModules();
        try (CudaCopyEngine engine = new CudaCopyEngine(() -> device, true); DeviceKv kv = new DeviceKv(device, S, S.randomLayers(1))) {
            assertFalse(engine.supports(kv.memory()));
            assertEquals("device 0 cannot run the copy kernels: cuModuleLoadData failed: CUDA_ERROR_UNSUPPORTED_PTX_VERSION (222)"
                    + " (kv_copy.ptx is PTX 9.0 for sm_80 from CUDA 13: it needs an NVIDIA driver of the R580 line or newer"
                    + " and a GPU of compute capability 8.0 or higher)", engine.unsupportedReason(kv.memory()));
            try (Arena arena = Arena.ofConfined()) {
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> engine.gather(kv.memory(), S.slotMapping(), 0, 8, arena.allocate(LAYOUT.chunkBytes(8))));
                assertEquals(engine.unsupportedReason(kv.memory()), e.getMessage());
            }
        }
        device.assertNothingHeld();
    }

    @Test
    void aCopyThatFailsPartWayThrowsTheDriversErrorAndTheNextCopyWorks() {
        KvScenario s = KvScenario.random(3, DeviceKvFormat.FLASH_INFER, true);
        EmulatedDevice device = new EmulatedDevice(3);
        byte[][] content = s.randomLayers(1);
        try (CudaCopyEngine engine = new CudaCopyEngine(() -> device, true);
             DeviceKv kv = new DeviceKv(device, s, content);
             HostChunks chunks = new HostChunks(s, i -> true)) {
            device.failLaunch(device.launches() + 1); // the second chunk's kernel
            CudaException e = assertThrows(CudaException.class, () -> engine.gather(kv.memory(), s.slotMapping(), chunks.copies()));
            assertEquals("cuLaunchKernel failed: CUDA_ERROR_LAUNCH_FAILED (719): lmc_kv_gather", e.getMessage());
            engine.gather(kv.memory(), s.slotMapping(), chunks.copies());
            for (int i = 0; i < chunks.copies().size(); i++) {
                ChunkCopy c = chunks.copies().get(i);
                byte[] expected = chunks.bytes(i).clone();
                ReferenceKvCopy.gather(s, content, c.from(), c.to(), expected);
                assertArrayEquals(expected, chunks.bytes(i), "chunk " + i);
            }
        }
        device.assertNothingHeld();
    }

    @Test
    void aDeviceThatIsNotThereIsNotSupported() {
        EmulatedDevice device = new EmulatedDevice(1);
        try (CudaCopyEngine engine = new CudaCopyEngine(() -> device, true)) {
            DeviceKvMemory onDevice3 = new DeviceKvMemory(LAYOUT, DeviceKvFormat.VLLM, 3, new long[] {4096, 8192}, 4, 4);
            assertEquals("device 3: not present (this machine has 1 CUDA devices)", engine.unsupportedReason(onDevice3));
        }
        device.assertNothingHeld();
    }

    @Test
    void aClosedEngineSaysSo() {
        EmulatedDevice device = new EmulatedDevice(1);
        CudaCopyEngine engine = new CudaCopyEngine(() -> device, true);
        DeviceKvMemory kv = S.memory(new long[] {4096, 8192});
        engine.close();
        engine.close();
        assertEquals("CUDA copy engine: closed", engine.unsupportedReason(kv));
        try (Arena arena = Arena.ofConfined()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> engine.gather(kv, S.slotMapping(), 0, 8, arena.allocate(LAYOUT.chunkBytes(8))));
            assertEquals("CUDA copy engine: closed", e.getMessage());
        }
        device.assertNothingHeld();
    }
}
