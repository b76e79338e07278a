package org.lmcache4j.api.spi;

import java.lang.foreign.MemorySegment;

/**
 * Host memory made directly reachable by devices ({@link DeviceCopyEngine#registerHost}). Closing it
 * (idempotent) undoes that; do so only when no copy uses the memory any more.
 */
public interface HostRegistration extends AutoCloseable {

    /** The registered memory. */
    MemorySegment memory();

    @Override
    void close();

    /** A registration that did nothing (for engines without one). */
    static HostRegistration none(MemorySegment host) {
        return new HostRegistration() {
            @Override
            public MemorySegment memory() {
                return host;
            }

            @Override
            public void close() {
            }
        };
    }
}
