package org.lmcache4j.gpu;

import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the device API once, on first need, and remembers the outcome: the API, or one sentence saying
 * why there is none (no driver, a driver LWJGL cannot bind, {@code cuInit} failing), logged once
 * (at debug level for a missing driver, which {@link CudaAvailability} has already logged).
 */
final class DeviceAccess implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeviceAccess.class);

    private final Supplier<DeviceApi> opener;
    private DeviceApi api;
    private String failure;

    DeviceAccess(Supplier<DeviceApi> opener) {
        this.opener = opener;
    }

    /** Why there is no device API; empty when there is one. */
    synchronized String failure() {
        open();
        return failure;
    }

    /** The API, or an {@link IllegalStateException} with {@link #failure()} (and no LWJGL cause). */
    synchronized DeviceApi require() {
        open();
        if (api == null) {
            throw new IllegalStateException(failure);
        }
        return api;
    }

    private void open() {
        if (api != null || failure != null) {
            return;
        }
        try {
            api = opener.get();
            failure = "";
        } catch (IllegalStateException e) {
            failure = e.getMessage();
        } catch (CudaException e) {
            failure = "CUDA driver " + CudaAvailability.DRIVER_LIBRARY + " is present but unusable: " + e.getMessage();
        } catch (LinkageError e) {
            failure = "CUDA driver " + CudaAvailability.DRIVER_LIBRARY + " could not be bound: " + e;
        }
        if (failure.equals(CudaCopyEngine.noDriverMessage())) {
            LOG.debug("{}", failure); // CudaAvailability has said so once already
        } else if (!failure.isEmpty()) {
            LOG.warn("{}; device-resident engine KV cannot be cached", failure);
        }
    }

    @Override
    public synchronized void close() {
        if (api != null) {
            api.close();
        }
    }
}
