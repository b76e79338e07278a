package org.lmcache4j.gpu;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.spi.ChunkCopy;

/**
 * Checks a copy's arguments before anything reaches the device: a slot past the engine's memory or a
 * chunk buffer too small would make the kernel read or write out of bounds, which on a GPU ends the
 * context, not just the call. Messages name the argument, the value and the expectation.
 */
final class CopyArguments {

    private CopyArguments() {
    }

    static void require(DeviceKvMemory kv, int[] slotMapping, List<ChunkCopy> chunks) {
        if (kv == null || slotMapping == null || chunks == null) {
            throw new IllegalArgumentException("kv, slotMapping and chunks: must not be null");
        }
        long rowsPerToken = (long) kv.layout().planes() * kv.layout().numLayers();
        for (int i = 0; i < chunks.size(); i++) {
            ChunkCopy c = chunks.get(i);
            if (c == null) {
                throw new IllegalArgumentException("chunks[" + i + "]: null (expected: a chunk copy)");
            }
            if (c.to() > slotMapping.length) {
                throw new IllegalArgumentException("chunks[" + i + "]: tokens [" + c.from() + ", " + c.to() + ") (expected: within the "
                        + slotMapping.length + " tokens of slotMapping)");
            }
            requireChunkBuffer("chunks[" + i + "]", c.chunk(), rowsPerToken * c.tokens() * kv.layout().rowBytes());
            requireSlots(kv, slotMapping, c.from(), c.to());
        }
    }

    static void requireRange(int[] slotMapping, int from, int to) {
        if (slotMapping == null) {
            throw new IllegalArgumentException("slotMapping: null (expected: one slot per token)");
        }
        if (from < 0 || to < from || to > slotMapping.length) {
            throw new IllegalArgumentException("tokens: [" + from + ", " + to + ") (expected: 0 <= from <= to <= "
                    + slotMapping.length + ", the length of slotMapping)");
        }
    }

    private static void requireChunkBuffer(String name, MemorySegment chunk, long bytes) {
        if (!chunk.isNative()) {
            throw new IllegalArgumentException(name + ": a heap segment (expected: off-heap memory the device can reach)");
        }
        if (!chunk.scope().isAlive() || !chunk.isAccessibleBy(Thread.currentThread())) {
            throw new IllegalArgumentException(name + ": chunk buffer is " + (chunk.scope().isAlive()
                    ? "confined to another thread" : "freed (its arena is closed)") + " (expected: memory this thread can access)");
        }
        if (chunk.byteSize() < bytes) {
            throw new IllegalArgumentException(name + ": chunk buffer of " + chunk.byteSize() + " bytes (expected: at least "
                    + bytes + ")");
        }
    }

    private static void requireSlots(DeviceKvMemory kv, int[] slotMapping, int from, int to) {
        for (int t = from; t < to; t++) {
            if (slotMapping[t] >= kv.numSlots()) {
                throw new IllegalArgumentException("slotMapping[" + t + "]: " + slotMapping[t] + " (expected: negative to skip, or 0 to "
                        + (kv.numSlots() - 1) + " for device KV of " + kv.numSlots() + " slots)");
            }
        }
    }
}
