package org.lmcache4j.bench.workload;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvLayout;

/**
 * The synthetic engine's KV memory: one contiguous K and V segment per layer for {@code slots} tokens,
 * touched once at construction and reused by every workload run, as a real engine's KV pool is, so a
 * retrieve into it never pays first-touch page faults inside a measured request or run. One run uses it
 * at a time ({@link #lease}).
 */
public final class EngineKvPool implements AutoCloseable {

    private static final long PAGE_BYTES = 4096;

    private final Arena arena = Arena.ofShared();
    private final HostKvMemory kv;
    private final int slots;
    private boolean leased;

    /** Allocates and touches KV memory for {@code slots} tokens of {@code layout}. */
    public EngineKvPool(KvLayout layout, int slots) {
        if (slots < 1) {
            throw new IllegalArgumentException("slots: " + slots + " (expected: >= 1)");
        }
        this.slots = slots;
        boolean ok = false;
        try {
            this.kv = WorkloadRunner.engineMemory(arena, layout, slots);
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                for (int plane = 0; plane < layout.planes(); plane++) {
                    MemorySegment s = kv.plane(layer, plane);
                    for (long at = 0; at < s.byteSize(); at += PAGE_BYTES) {
                        s.set(ValueLayout.JAVA_BYTE, at, (byte) 0);
                    }
                }
            }
            ok = true;
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    /** The memory's layout. */
    public KvLayout layout() {
        return kv.layout();
    }

    /** One run's use of the memory: at least {@code tokens} slots, until closed. */
    public synchronized Lease lease(int tokens) {
        if (tokens > slots) {
            throw new IllegalArgumentException("engine KV pool: " + tokens + " slots wanted, " + slots
                    + " held (expected: a pool sized for the longest request)");
        }
        if (leased) {
            throw new IllegalStateException("engine KV pool: already in use by another run (expected: one run at a time)");
        }
        leased = true;
        return new Lease();
    }

    /** A run's hold on the pool. */
    public final class Lease implements AutoCloseable {

        private boolean closed;

        private Lease() {
        }

        /** The engine memory. */
        public HostKvMemory kv() {
            return kv;
        }

        @Override
        public void close() {
            synchronized (EngineKvPool.this) {
                if (!closed) {
                    closed = true;
                    leased = false;
                }
            }
        }
    }

    /** Frees the memory; idempotent. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
