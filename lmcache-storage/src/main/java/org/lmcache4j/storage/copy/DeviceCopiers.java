package org.lmcache4j.storage.copy;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Supplier;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.spi.DeviceCopyEngine;
import org.lmcache4j.api.spi.HostRegistration;
import org.lmcache4j.storage.cpu.SlabRegistrar;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device copy engines of one connector, found by {@link ServiceLoader} on the first device-resident
 * call (so a host-only engine never loads one) and closed with the connector.
 */
public final class DeviceCopiers implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeviceCopiers.class);

    private final Supplier<List<DeviceCopyEngine>> loader;
    private List<DeviceCopyEngine> engines;
    private boolean closed;

    public DeviceCopiers(Supplier<List<DeviceCopyEngine>> loader) {
        this.loader = loader;
    }

    public static DeviceCopiers fromServiceLoader() {
        return new DeviceCopiers(() -> ServiceLoader.load(DeviceCopyEngine.class).stream().map(ServiceLoader.Provider::get).toList());
    }

    /**
     * What registers the cpu tier's slabs for device copies: every engine found here that {@link
     * DeviceCopyEngine#registersHost registers host memory} on this machine; {@link SlabRegistrar#NONE} when none
     * does. Loads the engines (their availability probes touch no CUDA library but the driver's presence).
     */
    public synchronized SlabRegistrar slabRegistrar() {
        if (engines == null) {
            engines = new ArrayList<>(loader.get());
        }
        List<DeviceCopyEngine> registering = engines.stream().filter(DeviceCopyEngine::registersHost).toList();
        if (registering.isEmpty()) {
            return SlabRegistrar.NONE;
        }
        LOG.info("cpu tier slabs are registered for device copies with {}", registering);
        return slab -> {
            List<HostRegistration> done = new ArrayList<>();
            try {
                for (DeviceCopyEngine engine : registering) {
                    done.add(engine.registerHost(slab));
                }
            } catch (RuntimeException e) {
                done.forEach(HostRegistration::close);
                throw e;
            }
            return new HostRegistration() {
                @Override
                public MemorySegment memory() {
                    return slab;
                }

                @Override
                public void close() {
                    done.forEach(HostRegistration::close);
                }
            };
        };
    }

    /** The first engine that supports {@code kv}; otherwise an {@link IllegalStateException} saying why not. */
    public synchronized DeviceCopyEngine require(DeviceKvMemory kv) {
        if (closed) {
            throw new IllegalStateException("KvConnector closed (expected: calls before close())");
        }
        if (engines == null) {
            engines = new ArrayList<>(loader.get());
            LOG.info("device copy engines: {}", engines);
        }
        if (engines.isEmpty()) {
            throw new IllegalStateException("device-resident engine KV (" + kv + ") needs the lmcache-gpu copy engine "
                    + "(org.lmcache4j:lmcache-gpu on the class path) and a CUDA driver; no DeviceCopyEngine was found");
        }
        List<String> reasons = new ArrayList<>();
        for (DeviceCopyEngine engine : engines) {
            if (engine.supports(kv)) {
                return engine;
            }
            reasons.add(engine.unsupportedReason(kv));
        }
        throw new IllegalStateException(String.join("; ", reasons));
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (engines != null) {
            for (DeviceCopyEngine engine : engines) {
                try {
                    engine.close();
                } catch (RuntimeException e) {
                    LOG.warn("closing device copy engine {} failed: {}", engine, e.getMessage());
                }
            }
            engines = List.of();
        }
    }
}
