package org.lmcache4j.storage.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.spi.HostRegistration;

/**
 * The cpu tier's slabs and device registration: every slab mapped is registered once, as a whole, right after it
 * is mapped; each registration is closed while its slab is still mapped; none is left after close; and a
 * registrar that fails leaves the slabs working, unregistered.
 */
class SlabRegistrationTest {

    private static final long MIB = 1 << 20;

    /** Counts registrations and checks, at each unregistration, that the memory is still mapped. */
    static final class CountingRegistrar implements SlabRegistrar {
        final List<MemorySegment> registered = new ArrayList<>();
        final List<MemorySegment> unregistered = new ArrayList<>();
        final List<String> problems = new ArrayList<>();

        @Override
        public synchronized HostRegistration register(MemorySegment slab) {
            for (MemorySegment r : registered) {
                if (r.address() == slab.address()) {
                    problems.add("registered twice: " + slab);
                }
            }
            registered.add(slab);
            return new HostRegistration() {
                private boolean closed;

                @Override
                public MemorySegment memory() {
                    return slab;
                }

                @Override
                public void close() {
                    synchronized (CountingRegistrar.this) {
                        if (closed) {
                            problems.add("unregistered twice: " + slab);
                        }
                        closed = true;
                        if (!slab.scope().isAlive()) {
                            problems.add("unregistered after its unmap: " + slab);
                        } else {
                            slab.get(java.lang.foreign.ValueLayout.JAVA_BYTE, slab.byteSize() - 1); // still mapped
                        }
                        unregistered.add(slab);
                    }
                }
            };
        }
    }

    @Test
    void everySlabIsRegisteredOnceAndUnregisteredBeforeItsUnmap() {
        CountingRegistrar registrar = new CountingRegistrar();
        PinnedSlabAllocator a = new PinnedSlabAllocator(6 * MIB, MIB, false, 2 * MIB, 0, Duration.ZERO, registrar);
        List<ChunkPage> pages = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            pages.add(a.tryAllocate().orElseThrow());
        }
        assertEquals(3, registrar.registered.size(), "three slabs of two pages each");
        for (MemorySegment slab : registrar.registered) {
            assertEquals(2 * MIB, slab.byteSize(), "the whole slab");
        }
        for (ChunkPage page : pages) {
            assertTrue(registrar.registered.stream().anyMatch(s -> page.memory().address() >= s.address()
                    && page.memory().address() + page.memory().byteSize() <= s.address() + s.byteSize()), "page inside a registered slab");
        }
        pages.forEach(ChunkPage::release);
        assertEquals(0, registrar.unregistered.size(), "registered while mapped");
        a.close();
        assertEquals(3, registrar.unregistered.size(), "every registration closed at close");
        assertEquals(List.of(), registrar.problems);
    }

    @Test
    void aFailingRegistrarLeavesSlabsWorkingUnregistered() {
        PinnedSlabAllocator a = new PinnedSlabAllocator(4 * MIB, MIB, false, 2 * MIB, 0, Duration.ZERO, slab -> {
            throw new IllegalStateException("cuMemHostRegister failed: CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED (712)");
        });
        try (a) {
            ChunkPage page = a.tryAllocate().orElseThrow();
            page.memory().fill((byte) 7);
            assertEquals(7, page.memory().get(java.lang.foreign.ValueLayout.JAVA_BYTE, MIB - 1));
            page.release();
        }
    }
}
