package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * {@link CopyEngineContract} on a real GPU (device 0): the PTX loaded by the driver, real streams, events,
 * pinned and mapped memory. Tagged {@code gpu}: run with
 * {@code ./mvnw -B verify -pl lmcache-gpu -am -Dlmcache.excludedGroups= -Dgroups=gpu}; each test is skipped with the reason
 * where there is no driver or device.
 */
@Tag("gpu")
class CudaCopyEngineGpuTest extends CopyEngineContract {

    private CudaDriver driver;

    @BeforeEach
    void needsAGpu() {
        driver = GpuTests.driverOrSkip();
    }

    @Override
    DeviceApi openDevice(long seed) {
        return driver;
    }
}
