package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The shared precondition of the {@code gpu}-tagged tests. */
final class GpuTests {

    private GpuTests() {
    }

    /** The opened driver when this machine has one with a device; otherwise skips the test, saying why. */
    static CudaDriver driverOrSkip() {
        assumeTrue(CudaAvailability.driverLibrary().isPresent(),
                () -> "needs an NVIDIA GPU and driver: " + CudaAvailability.unavailableReason());
        CudaDriver driver;
        try {
            driver = CudaDriver.open();
        } catch (IllegalStateException | CudaException e) {
            assumeTrue(false, "the CUDA driver is present but unusable: " + e.getMessage());
            throw e;
        }
        assumeTrue(driver.deviceCount() > 0, "the CUDA driver reports no device");
        return driver;
    }
}
