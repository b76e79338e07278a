package org.lmcache4j.storage.cpu;

import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.spi.HostRegistration;

/**
 * Makes each slab the cpu tier maps reachable by devices ({@code cuMemHostRegister} through a device copy
 * engine), so device copies go straight into its chunk pages. The allocator registers a slab once, right after
 * mapping it, and closes the registration before unmapping it.
 */
@FunctionalInterface
public interface SlabRegistrar {

    /** Registers nothing (no device engine here). */
    SlabRegistrar NONE = HostRegistration::none;

    /**
     * Registers {@code slab}; a failure leaves the slab unregistered (device copies of its pages are then staged).
     */
    HostRegistration register(MemorySegment slab);
}
