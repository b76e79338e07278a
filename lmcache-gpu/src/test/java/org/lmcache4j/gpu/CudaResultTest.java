package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lwjgl.cuda.CU;

/**
 * {@code CUresult} names and {@link CudaException} messages. The {@code CU.*} constants below are compile-time
 * constants that javac inlines, so this test never loads LWJGL's CUDA class (it runs without a driver).
 */
class CudaResultTest {

    @Test
    void namesAgreeWithLwjglsConstants() {
        Map<Integer, String> sample = Map.of(
                CU.CUDA_SUCCESS, "CUDA_SUCCESS",
                CU.CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE",
                CU.CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY",
                CU.CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE",
                CU.CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX",
                CU.CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
                CU.CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS",
                CU.CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED, "CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED",
                CU.CUDA_ERROR_MISALIGNED_ADDRESS, "CUDA_ERROR_MISALIGNED_ADDRESS",
                CU.CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN");
        sample.forEach((code, name) -> assertEquals(name, CudaResult.name(code)));
        assertEquals(97, CudaResult.all().size(), "every CUresult LWJGL 3.3.6 declares");
    }

    @Test
    void anUnknownCodeIsNamedByNumber() {
        assertEquals("CUresult 12345", CudaResult.name(12345));
    }

    @Test
    void anExceptionNamesTheCallTheResultAndWhatItWasDoing() {
        CudaException e = new CudaException("cuMemAlloc", 2, "1048576 bytes");
        assertEquals("cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (2): 1048576 bytes", e.getMessage());
        assertEquals("cuMemAlloc", e.call());
        assertEquals(2, e.result());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.resultName());
        assertEquals("cuInit failed: CUDA_ERROR_NO_DEVICE (100)", new CudaException("cuInit", 100).getMessage());
    }
}
