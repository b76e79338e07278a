package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lwjgl.cuda.CU;

/**
 * The driver facade against a real driver: failures become {@link CudaException}s naming the call and the
 * result, the committed PTX loads and yields both kernels, registered host memory is mapped at its own
 * address (unified addressing), and the engine supports device 0. Tagged {@code gpu}.
 */
@Tag("gpu")
class CudaDriverGpuTest {

    private CudaDriver driver;

    @BeforeEach
    void needsAGpu() {
        driver = GpuTests.driverOrSkip();
    }

    @Test
    void aFailingCallNamesTheCallAndTheResult() {
        CudaContext context = driver.retainPrimaryContext(0);
        driver.pushContext(context);
        try {
            CudaException e = assertThrows(CudaException.class, () -> driver.allocate(1L << 52)); // 4 PiB
            assertEquals("cuMemAlloc", e.call());
            assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.resultName());
            assertTrue(e.getMessage().startsWith("cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (2): "), e.getMessage());
            CudaException badStream = assertThrows(CudaException.class, () -> driver.synchronize(new CudaStream(0xdead0000L)));
            assertEquals("cuStreamSynchronize", badStream.call());
        } finally {
            driver.popContext();
            driver.releasePrimaryContext(context);
        }
    }

    @Test
    void theCommittedPtxLoadsWithBothKernels() {
        CudaContext context = driver.retainPrimaryContext(0);
        driver.pushContext(context);
        try {
            KvCopyKernels kernels = KvCopyKernels.load(driver);
            assertEquals(KvCopyKernels.GATHER, kernels.gather().name());
            assertEquals(KvCopyKernels.SCATTER, kernels.scatter().name());
            kernels.unload(driver);
        } finally {
            driver.popContext();
            driver.releasePrimaryContext(context);
        }
    }

    @Test
    void registeredHostMemoryIsMappedAtItsOwnAddress() {
        assertEquals(1, driver.attribute(0, CU.CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING), "unified addressing");
        CudaContext context = driver.retainPrimaryContext(0);
        driver.pushContext(context);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(1 << 20, 4096);
            driver.registerHost(host);
            try {
                assertEquals(host.address(), driver.mappedPointer(host).address());
                CudaException twice = assertThrows(CudaException.class, () -> driver.registerHost(host));
                assertEquals("CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED", twice.resultName());
            } finally {
                driver.unregisterHost(host);
            }
        } finally {
            driver.popContext();
            driver.releasePrimaryContext(context);
        }
    }

    @Test
    void theEngineSupportsDeviceKvOnDevice0() {
        KvLayout layout = KvLayout.standard(2, 8, 128, KvDtype.BF16);
        try (CudaCopyEngine engine = new CudaCopyEngine()) {
            DeviceKvMemory kv = new DeviceKvMemory(layout, DeviceKvFormat.VLLM, 0, new long[] {1 << 20, 2 << 20}, 4, 16);
            assertEquals("", engine.unsupportedReason(kv));
            DeviceKvMemory absent = new DeviceKvMemory(layout, DeviceKvFormat.VLLM, 64, new long[] {1 << 20, 2 << 20}, 4, 16);
            assertTrue(engine.unsupportedReason(absent).startsWith("device 64: not present"), engine.unsupportedReason(absent));
        }
    }
}
