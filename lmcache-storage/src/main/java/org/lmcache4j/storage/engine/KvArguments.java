package org.lmcache4j.storage.engine;

import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.EngineKvMemory;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvLayout;

/**
 * Checks what an engine passes to the connector before anything is copied, so a bad call fails with a
 * message naming the argument, the value and the expectation, and never half-writes engine memory.
 */
public final class KvArguments {

    private KvArguments() {
    }

    public static void requireTokens(int[] tokens) {
        if (tokens == null) {
            throw new IllegalArgumentException("tokens: null (expected: the prompt's token ids)");
        }
    }

    /** Tokens and slots present and of equal length; every slot negative or below {@code numSlots}. */
    static void requireSlots(int[] tokens, int[] slotMapping, int numSlots) {
        requireTokens(tokens);
        if (slotMapping == null) {
            throw new IllegalArgumentException("slotMapping: null (expected: one slot per token)");
        }
        if (slotMapping.length != tokens.length) {
            throw new IllegalArgumentException("slotMapping: " + slotMapping.length + " slots for " + tokens.length
                    + " tokens (expected: the same length)");
        }
        for (int i = 0; i < slotMapping.length; i++) {
            if (slotMapping[i] >= numSlots) {
                throw new IllegalArgumentException("slotMapping[" + i + "]: " + slotMapping[i] + " (expected: negative to skip, or 0 to "
                        + (numSlots - 1) + " for engine memory of " + numSlots + " slots)");
            }
        }
    }

    /**
     * The engine memory, checked: of {@code layout}; host memory alive, accessible by this thread and, when
     * {@code forRetrieve}, writable (device memory is checked by its copy engine).
     */
    static EngineKvMemory engineMemory(EngineKvMemory kv, KvLayout layout, boolean forRetrieve) {
        if (kv == null) {
            throw new IllegalArgumentException("engine KV memory: null (expected: HostKvMemory or DeviceKvMemory)");
        }
        if (!kv.layout().equals(layout)) {
            throw new IllegalArgumentException("engine KV layout: " + kv.layout() + " (expected: the connector's layout "
                    + layout + ")");
        }
        if (!(kv instanceof HostKvMemory host)) {
            return kv;
        }
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            for (int plane = 0; plane < layout.planes(); plane++) {
                for (int i = 0; i < host.segmentsPerPlane(); i++) {
                    MemorySegment s = host.segment(layer, plane, i);
                    if (!s.scope().isAlive() || !s.isAccessibleBy(Thread.currentThread())) {
                        throw new IllegalArgumentException("engine KV memory: layer " + layer + " plane " + plane
                                + segmentName(host, i) + " is "
                                + (s.scope().isAlive() ? "confined to another thread" : "freed (its arena is closed)")
                                + " (expected: memory this thread can access)");
                    }
                }
            }
        }
        if (forRetrieve && !host.writable()) {
            throw new IllegalArgumentException("engine KV memory: read-only segments (expected: writable memory to retrieve into)");
        }
        return host;
    }

    /**
     * For a background store: host memory that {@code copier}, the thread that will read it, can access
     * (a shared or global arena's; a confined one's only its owner can read). Device memory passes.
     */
    static void requireReadableBy(EngineKvMemory kv, Thread copier) {
        if (!(kv instanceof HostKvMemory host)) {
            return;
        }
        for (int layer = 0; layer < host.layout().numLayers(); layer++) {
            for (int plane = 0; plane < host.layout().planes(); plane++) {
                for (int i = 0; i < host.segmentsPerPlane(); i++) {
                    if (!host.segment(layer, plane, i).isAccessibleBy(copier)) {
                        throw new IllegalArgumentException("engine KV memory: layer " + layer + " plane " + plane
                                + segmentName(host, i) + " is confined to the calling thread (expected: memory of a"
                                + " shared or global arena, which storeAsync's background thread can read; or call store)");
                    }
                }
            }
        }
    }

    private static String segmentName(HostKvMemory host, int index) {
        return host.segmentsPerPlane() == 1 ? "" : " block " + index;
    }

    /**
     * Length of the {@code false} prefix of a store mask, which must be a multiple of {@code chunkTokens}
     * and followed only by {@code true}; 0 for a null mask.
     */
    static int storeMaskPrefix(boolean[] mask, int tokens, int chunkTokens) {
        int prefix = maskPrefix("storeMask", mask, tokens);
        if (prefix % chunkTokens != 0) {
            throw new IllegalArgumentException("storeMask: already-stored prefix of " + prefix + " tokens (expected: a multiple of "
                    + chunkTokens + ", the chunk size)");
        }
        return prefix;
    }

    /** Length of the {@code false} prefix of a retrieve mask (any length); 0 for a null mask. */
    static int retrieveMaskPrefix(boolean[] mask, int tokens) {
        return maskPrefix("retrieveMask", mask, tokens);
    }

    private static int maskPrefix(String name, boolean[] mask, int tokens) {
        if (mask == null) {
            return 0;
        }
        if (mask.length != tokens) {
            throw new IllegalArgumentException(name + ": " + mask.length + " entries for " + tokens
                    + " tokens (expected: the same length)");
        }
        int prefix = 0;
        while (prefix < mask.length && !mask[prefix]) {
            prefix++;
        }
        for (int i = prefix; i < mask.length; i++) {
            if (!mask[i]) {
                throw new IllegalArgumentException(name + "[" + i + "]: false after true at " + prefix
                        + " (expected: false only for a prefix, then true to the end)");
            }
        }
        return prefix;
    }

    /** A deadline in nanoseconds: null or negative durations are rejected. */
    static long deadlineNanos(java.time.Duration deadline) {
        if (deadline == null || deadline.isNegative()) {
            throw new IllegalArgumentException("deadline: " + deadline + " (expected: a duration >= 0)");
        }
        // Durations beyond ~292 years do not fit in nanoseconds; any deadline that long is no deadline.
        return deadline.compareTo(java.time.Duration.ofDays(365L * 100)) > 0 ? -1 : deadline.toNanos();
    }

    /** True when a slot in {@code [from, to)} is negative (the token is not in engine memory). */
    static boolean anyNegative(int[] slots, int from, int to) {
        for (int i = from; i < to; i++) {
            if (slots[i] < 0) {
                return true;
            }
        }
        return false;
    }
}
