package org.lmcache4j.gpu;

/**
 * {@link CopyEngineContract} on the CPU emulation: the engine's real code (plans, pipelines, layerwise
 * steps, launch parameters) over {@link EmulatedDevice}, whose streams run in a random order only events
 * constrain, and which checks bounds, contexts and that everything is given back.
 */
class EmulatedCopyEngineTest extends CopyEngineContract {

    @Override
    DeviceApi openDevice(long seed) {
        return new EmulatedDevice(seed);
    }

    @Override
    void afterClose(DeviceApi device) {
        ((EmulatedDevice) device).assertNothingHeld();
        device.close();
    }
}
