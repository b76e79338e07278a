package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.ChunkCopy;
import org.lmcache4j.api.spi.DeviceCopyEngine;

/**
 * On a machine without {@code libcuda.so.1}: the engine is found, says it does not support device KV, and
 * every GPU use fails with one {@link IllegalStateException} naming the missing library, with no cause and
 * no LWJGL frame (LWJGL's CUDA classes are never touched).
 */
class CudaCopyEngineWithoutDriverTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 2, 8, KvDtype.FP16);
    private static final DeviceKvMemory KV = new DeviceKvMemory(LAYOUT, DeviceKvFormat.VLLM, 0, new long[] {4096, 8192}, 4, 16);
    private static final int[] SLOTS = {0, 1, 2, 3};

    @BeforeAll
    static void onlyWithoutADriver() {
        assumeTrue(CudaAvailability.driverLibrary().isEmpty(),
                "this machine has a CUDA driver; CudaCopyEngineGpuTest covers the engine there");
    }

    @Test
    void serviceLoaderFindsTheEngine() {
        List<DeviceCopyEngine> engines = ServiceLoader.load(DeviceCopyEngine.class).stream().map(ServiceLoader.Provider::get)
                .filter(e -> !(e instanceof EmulatedEngineProvider)) // this module's tests add the emulated device's
                .toList();
        assertEquals(1, engines.size(), engines::toString);
        assertInstanceOf(CudaCopyEngine.class, engines.get(0));
        engines.get(0).close();
    }

    @Test
    void supportsIsFalseAndTheReasonNamesTheLibrary() {
        try (CudaCopyEngine engine = new CudaCopyEngine()) {
            assertFalse(engine.supports(KV));
            assertFalse(engine.registersHost(), "no driver: the cpu tier registers nothing");
            String reason = engine.unsupportedReason(KV);
            assertEquals(CudaCopyEngine.noDriverMessage(), reason);
            assertTrue(reason.startsWith("CUDA driver libcuda.so.1 not found: CUDA driver library libcuda.so.1 cannot be loaded ("), reason);
        }
    }

    @Test
    void everyGpuUseFailsWithTheSameOneLineMessageAndNoLwjglTrace() {
        try (CudaCopyEngine engine = new CudaCopyEngine(); Arena arena = Arena.ofConfined()) {
            MemorySegment chunk = arena.allocate(LAYOUT.chunkBytes(4), 4096);
            List<ChunkCopy> chunks = List.of(new ChunkCopy(0, 4, chunk));
            List<Executable> uses = List.of(
                    () -> engine.gather(KV, SLOTS, 0, 4, chunk),
                    () -> engine.scatter(chunk, KV, SLOTS, 0, 4),
                    () -> engine.gather(KV, SLOTS, chunks),
                    () -> engine.scatter(chunks, KV, SLOTS),
                    () -> engine.storeLayerwise(KV, SLOTS, chunks, 0),
                    () -> engine.retrieveLayerwise(chunks, KV, SLOTS, 0),
                    () -> engine.registerHost(chunk));
            for (Executable use : uses) {
                IllegalStateException e = assertThrows(IllegalStateException.class, use);
                assertEquals(CudaCopyEngine.noDriverMessage(), e.getMessage());
                assertFalse(e.getMessage().contains("\n"), "one line");
                assertNull(e.getCause());
                assertEquals(0, e.getSuppressed().length);
                assertTrue(Arrays.stream(e.getStackTrace()).noneMatch(f -> f.getClassName().startsWith("org.lwjgl")),
                        () -> Arrays.toString(e.getStackTrace()));
            }
        }
    }

    @Test
    void theDriverFacadeRefusesToOpenWithTheSameMessage() {
        IllegalStateException e = assertThrows(IllegalStateException.class, CudaDriver::open);
        assertEquals(CudaCopyEngine.noDriverMessage(), e.getMessage());
        assertNull(e.getCause());
    }
}
