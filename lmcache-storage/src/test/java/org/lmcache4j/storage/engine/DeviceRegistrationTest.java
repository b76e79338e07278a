package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.spi.DeviceCopyEngine;
import org.lmcache4j.api.spi.HostRegistration;
import org.lmcache4j.storage.copy.DeviceCopiers;
import org.lmcache4j.testing.SeededKv;

/**
 * With a device copy engine that registers host memory, the connector's cpu tier registers every slab it maps
 * with it and unregisters them all, while still mapped, at close; with an engine that does not (no device here),
 * nothing is registered.
 */
class DeviceRegistrationTest {

    /** A device engine whose registerHost only counts (what CudaCopyEngine does with cuMemHostRegister). */
    private static final class RegisteringEngine implements DeviceCopyEngine {
        final boolean registers;
        final List<MemorySegment> live = new ArrayList<>();
        int registrations;
        String problem = "";

        RegisteringEngine(boolean registers) {
            this.registers = registers;
        }

        @Override
        public boolean registersHost() {
            return registers;
        }

        @Override
        public synchronized HostRegistration registerHost(MemorySegment host) {
            registrations++;
            live.add(host);
            return new HostRegistration() {
                @Override
                public MemorySegment memory() {
                    return host;
                }

                @Override
                public void close() {
                    synchronized (RegisteringEngine.this) {
                        if (!host.scope().isAlive()) {
                            problem = "unregistered after unmap";
                        }
                        live.remove(host);
                    }
                }
            };
        }

        @Override
        public boolean supports(DeviceKvMemory kv) {
            return false;
        }

        @Override
        public void gather(DeviceKvMemory kv, int[] slotMapping, int from, int to, MemorySegment chunk) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void scatter(MemorySegment chunk, DeviceKvMemory kv, int[] slotMapping, int from, int to) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    private static TieredCacheEngine open(DeviceCopyEngine engine) {
        return new TieredCacheEngine(Engines.config().build(), Engines.SMALL, System::nanoTime, UnaryOperator.identity(),
                List.of(), new StoreQueue(StoreQueue.DEFAULT_CAPACITY, StoreQueue.DEFAULT_DRAIN_MILLIS),
                new DeviceCopiers(() -> List.of(engine)));
    }

    @Test
    void theCpuTiersSlabsAreRegisteredWithTheDeviceEngineAndReleasedAtClose() {
        RegisteringEngine device = new RegisteringEngine(true);
        try (Arena arena = Arena.ofShared()) {
            try (TieredCacheEngine engine = open(device)) {
                int[] tokens = SeededKv.tokens(1, 4 * Engines.CHUNK);
                HostKvMemory kv = SeededKv.contiguous(arena, Engines.SMALL, tokens.length);
                SeededKv.fill(kv, tokens, SeededKv.identitySlots(tokens.length));
                assertEquals(tokens.length, engine.store(tokens, kv, SeededKv.identitySlots(tokens.length)));
                synchronized (device) {
                    assertTrue(device.registrations >= 1, "the slab holding the stored chunks is registered");
                    assertEquals(device.registrations, device.live.size(), "each registered once, none closed yet");
                }
            }
            synchronized (device) {
                assertEquals(List.of(), device.live, "every registration closed at connector close");
                assertEquals("", device.problem);
            }
        }
    }

    @Test
    void anEngineWithoutADeviceRegistersNothing() {
        RegisteringEngine device = new RegisteringEngine(false);
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = open(device)) {
            int[] tokens = Engines.storePrompt(engine, arena, 2, 2).clone();
            assertEquals(2 * Engines.CHUNK, engine.lookup(tokens));
            assertEquals(0, device.registrations);
        }
    }
}
