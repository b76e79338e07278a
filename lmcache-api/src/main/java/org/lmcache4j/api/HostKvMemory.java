package org.lmcache4j.api;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Engine KV kept in host memory: one off-heap segment per layer and plane (K, V; or the latent for
 * MLA), each addressed as rows of {@link KvLayout#rowBytes()} by slot. Covers both a contiguous
 * {@code [position][kvDim]} cache (slot = position) and a paged {@code [block][blockSize][kvDim]} one
 * (slot = block * blockSize + offset): in both, row {@code s} starts at byte {@code s * rowBytes}.
 *
 * <p>The segments stay owned by the engine; the cache reads them in {@code store} and writes them in
 * {@code retrieve}, and keeps no reference after the call returns.
 */
public final class HostKvMemory implements EngineKvMemory {

    private final KvLayout layout;
    private final MemorySegment[] planes; // [layer * planes + plane]
    private final int blockSize;
    private final int numSlots;

    private HostKvMemory(KvLayout layout, List<MemorySegment> keysOrLatents, List<MemorySegment> values,
                         int blockSize, int numSlots) {
        if (layout == null) {
            throw new IllegalArgumentException("layout: null (expected: the engine's KvLayout)");
        }
        if (blockSize <= 0 || numSlots < 0) {
            throw new IllegalArgumentException("blockSize: " + blockSize + ", numSlots: " + numSlots
                    + " (expected: blockSize > 0, numSlots >= 0)");
        }
        this.layout = layout;
        this.blockSize = blockSize;
        this.numSlots = numSlots;
        this.planes = new MemorySegment[layout.numLayers() * layout.planes()];
        requireLayers("keys", keysOrLatents, layout.numLayers());
        requireLayers("values", values, layout.mla() ? 0 : layout.numLayers());
        long needBytes = (long) numSlots * layout.rowBytes();
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            planes[layer * layout.planes()] = requireSize("keys", layer, keysOrLatents.get(layer), needBytes);
            if (!layout.mla()) {
                planes[layer * 2 + 1] = requireSize("values", layer, values.get(layer), needBytes);
            }
        }
    }

    /**
     * A contiguous cache: one {@code [position][kvDim]} segment per layer for K and one for V.
     * The number of slots is what the smallest segment holds.
     */
    public static HostKvMemory contiguous(KvLayout layout, List<MemorySegment> keys, List<MemorySegment> values) {
        requireLayout(layout, false);
        return new HostKvMemory(layout, keys, values, 1, slotsHeldByAll(layout, keys, values));
    }

    /** A paged cache: per layer, K and V segments of {@code [numBlocks][blockSize][kvDim]}. */
    public static HostKvMemory paged(KvLayout layout, int numBlocks, int blockSize,
                                     List<MemorySegment> keys, List<MemorySegment> values) {
        requireLayout(layout, false);
        if (numBlocks < 0 || blockSize <= 0 || (long) numBlocks * blockSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("numBlocks: " + numBlocks + ", blockSize: " + blockSize
                    + " (expected: numBlocks >= 0, blockSize > 0, numBlocks * blockSize < 2^31)");
        }
        return new HostKvMemory(layout, keys, values, blockSize, numBlocks * blockSize);
    }

    /** An MLA cache: one {@code [slot][latentDim]} segment per layer; {@code blockSize} 1 for contiguous. */
    public static HostKvMemory mla(KvLayout layout, int numSlots, int blockSize, List<MemorySegment> latents) {
        requireLayout(layout, true);
        return new HostKvMemory(layout, latents, List.of(), blockSize, numSlots);
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    @Override
    public int numSlots() {
        return numSlots;
    }

    /** Tokens per block: 1 for a contiguous cache. */
    public int blockSize() {
        return blockSize;
    }

    /** The segment of {@code layer}, {@code plane} 0 (K or latent) or 1 (V). */
    public MemorySegment plane(int layer, int plane) {
        return planes[layer * layout.planes() + plane];
    }

    /** True when every segment can be written (a retrieve target). */
    public boolean writable() {
        for (MemorySegment s : planes) {
            if (s.isReadOnly()) {
                return false;
            }
        }
        return true;
    }

    private static int slotsHeldByAll(KvLayout layout, List<MemorySegment> keys, List<MemorySegment> values) {
        requireLayers("keys", keys, layout.numLayers());
        requireLayers("values", values, layout.numLayers());
        long min = Long.MAX_VALUE;
        for (int i = 0; i < layout.numLayers(); i++) {
            min = Math.min(min, Math.min(requireSize("keys", i, keys.get(i), 0).byteSize(),
                    requireSize("values", i, values.get(i), 0).byteSize()));
        }
        return (int) Math.min(Integer.MAX_VALUE, min / layout.rowBytes());
    }

    private static void requireLayout(KvLayout layout, boolean mla) {
        if (layout == null) {
            throw new IllegalArgumentException("layout: null (expected: the engine's KvLayout)");
        }
        if (layout.mla() != mla) {
            throw new IllegalArgumentException("layout: " + layout + (mla ? " (expected: an MLA layout)"
                    : " (expected: a standard K+V layout; use HostKvMemory.mla for MLA)"));
        }
    }

    private static void requireLayers(String what, List<MemorySegment> segments, int expected) {
        if (segments == null || segments.size() != expected) {
            throw new IllegalArgumentException(what + ": " + (segments == null ? "null" : segments.size() + " segments")
                    + " (expected: " + expected + ", one per layer)");
        }
    }

    private static MemorySegment requireSize(String what, int layer, MemorySegment s, long needBytes) {
        if (s == null) {
            throw new IllegalArgumentException(what + "[" + layer + "]: null (expected: a memory segment)");
        }
        if (s.byteSize() < needBytes) {
            throw new IllegalArgumentException(what + "[" + layer + "]: " + s.byteSize() + " bytes (expected: at least "
                    + needBytes + " for the declared slots)");
        }
        return s;
    }
}
