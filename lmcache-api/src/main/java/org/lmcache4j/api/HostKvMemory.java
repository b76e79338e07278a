package org.lmcache4j.api;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Engine KV kept in host memory, addressed as rows of {@link KvLayout#rowBytes()} by slot, per layer and
 * plane (K, V; or the latent for MLA). Three shapes:
 * <ul>
 *   <li>a contiguous {@code [position][kvDim]} cache, one segment per layer and plane (slot = position);</li>
 *   <li>a paged {@code [block][blockSize][kvDim]} cache, one segment per layer and plane
 *       (slot = block * blockSize + offset): in both, row {@code s} starts at byte {@code s * rowBytes};</li>
 *   <li>a paged cache whose blocks are separate allocations ({@link #blocks}), as engines that allocate KV
 *       pages on demand keep it (Jlama): one segment per layer, plane and block, row {@code s} at byte
 *       {@code (s % blockSize) * rowBytes} of block {@code s / blockSize}'s segment.</li>
 * </ul>
 *
 * <p>The segments stay owned by the engine; the cache reads them in {@code store} and writes them in
 * {@code retrieve}, and keeps no reference after the call returns.
 */
public final class HostKvMemory implements EngineKvMemory {

    /**
     * Where a block of engine KV lives, for {@link #blocks}: the segment of {@code blockSize} rows of
     * {@code layer}, {@code plane} (0 = K or the MLA latent, 1 = V) and {@code block}.
     */
    @FunctionalInterface
    public interface BlockSegments {
        MemorySegment segment(int layer, int plane, int block);
    }

    private final KvLayout layout;
    private final MemorySegment[] segments; // [(layer * planes + plane) * segmentsPerPlane + index]
    private final int segmentsPerPlane;
    private final int rowsPerSegment;
    private final int blockSize;
    private final int numSlots;
    private boolean shared; // set once the segments are in place

    private HostKvMemory(KvLayout layout, List<MemorySegment> keysOrLatents, List<MemorySegment> values,
                         int blockSize, int numSlots) {
        this(layout, blockSize, numSlots, 1, Math.max(1, numSlots));
        requireLayers("keys", keysOrLatents, layout.numLayers());
        requireLayers("values", values, layout.mla() ? 0 : layout.numLayers());
        long needBytes = (long) numSlots * layout.rowBytes();
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            segments[layer * layout.planes()] = requireSize("keys[" + layer + "]", keysOrLatents.get(layer), needBytes);
            if (!layout.mla()) {
                segments[layer * 2 + 1] = requireSize("values[" + layer + "]", values.get(layer), needBytes);
            }
        }
        this.shared = accessibleByAnyThread(segments);
    }

    private HostKvMemory(KvLayout layout, int blockSize, int numSlots, int segmentsPerPlane, int rowsPerSegment) {
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
        this.segmentsPerPlane = segmentsPerPlane;
        this.rowsPerSegment = rowsPerSegment;
        this.segments = new MemorySegment[layout.numLayers() * layout.planes() * segmentsPerPlane];
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
        requireBlocks(numBlocks, blockSize);
        return new HostKvMemory(layout, keys, values, blockSize, numBlocks * blockSize);
    }

    /** An MLA cache: one {@code [slot][latentDim]} segment per layer; {@code blockSize} 1 for contiguous. */
    public static HostKvMemory mla(KvLayout layout, int numSlots, int blockSize, List<MemorySegment> latents) {
        requireLayout(layout, true);
        return new HostKvMemory(layout, latents, List.of(), blockSize, numSlots);
    }

    /**
     * A paged cache whose blocks are separate allocations: {@code blocks} gives, for every layer, plane
     * ({@link KvLayout#planes()}: K and V, or the MLA latent) and block, a segment of at least
     * {@code blockSize} rows. Slot {@code s} is row {@code s % blockSize} of block {@code s / blockSize}.
     * The segments are asked for once, here; tokens whose slots run on across a block boundary are copied
     * in one piece per block.
     *
     * @throws IllegalArgumentException when a count is out of range, or a segment is null or holds fewer
     *                                  than {@code blockSize} rows (the message names layer, plane and block)
     */
    public static HostKvMemory blocks(KvLayout layout, int numBlocks, int blockSize, BlockSegments blocks) {
        if (layout == null) {
            throw new IllegalArgumentException("layout: null (expected: the engine's KvLayout)");
        }
        requireBlocks(numBlocks, blockSize);
        if (blocks == null) {
            throw new IllegalArgumentException("blocks: null (expected: the segment of each layer, plane and block)");
        }
        HostKvMemory kv = new HostKvMemory(layout, blockSize, numBlocks * blockSize, numBlocks, blockSize);
        long needBytes = (long) blockSize * layout.rowBytes();
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            for (int plane = 0; plane < layout.planes(); plane++) {
                for (int block = 0; block < numBlocks; block++) {
                    kv.segments[kv.index(layer, plane, block)] = requireSize(
                            "block " + block + " of layer " + layer + " plane " + plane,
                            blocks.segment(layer, plane, block), needBytes, blockSize + " rows of " + layout.rowBytes() + " bytes");
                }
            }
        }
        kv.shared = accessibleByAnyThread(kv.segments);
        return kv;
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

    /**
     * The segment of {@code layer}, {@code plane} 0 (K or latent) or 1 (V), holding every slot's row.
     *
     * @throws IllegalStateException for memory made with {@link #blocks} (use {@link #segmentOf})
     */
    public MemorySegment plane(int layer, int plane) {
        if (segmentsPerPlane != 1) {
            throw new IllegalStateException("engine KV memory of " + segmentsPerPlane + " separate blocks per layer and plane"
                    + " has no single plane segment (expected: segmentOf(layer, plane, slot) and offsetOf(slot))");
        }
        return segments[index(layer, plane, 0)];
    }

    /** Segments per layer and plane: 1, or the number of blocks (possibly 0) for memory made with {@link #blocks}. */
    public int segmentsPerPlane() {
        return segmentsPerPlane;
    }

    /** Segment {@code index} (0 to {@link #segmentsPerPlane()} - 1) of {@code layer}, {@code plane}. */
    public MemorySegment segment(int layer, int plane, int index) {
        requireIndex("segment index", index, segmentsPerPlane);
        return segments[index(layer, plane, index)];
    }

    /** The segment holding the row of {@code slot} in {@code layer}, {@code plane}; the row starts at {@link #offsetOf}. */
    public MemorySegment segmentOf(int layer, int plane, int slot) {
        requireIndex("slot", slot, numSlots);
        return segments[index(layer, plane, slot / rowsPerSegment)];
    }

    /** Byte offset of the row of {@code slot} in {@link #segmentOf}'s segment. */
    public long offsetOf(int slot) {
        requireIndex("slot", slot, numSlots);
        return (long) (slot % rowsPerSegment) * layout.rowBytes();
    }

    /** How many slots from {@code slot} on lie one after another in the same segment (a bulk copy's limit). */
    public int rowsInSegmentFrom(int slot) {
        requireIndex("slot", slot, numSlots);
        return Math.min(rowsPerSegment - slot % rowsPerSegment, numSlots - slot);
    }

    /**
     * True when any thread may access every segment (memory of shared or global arenas, or of buffers); false
     * when a segment is confined to one thread, which alone may copy it.
     */
    public boolean sharedAcrossThreads() {
        return shared;
    }

    /** True when every segment can be written (a retrieve target). */
    public boolean writable() {
        for (MemorySegment s : segments) {
            if (s.isReadOnly()) {
                return false;
            }
        }
        return true;
    }

    private int index(int layer, int plane, int segment) {
        requireIndex("layer", layer, layout.numLayers());
        requireIndex("plane", plane, layout.planes());
        return (layer * layout.planes() + plane) * segmentsPerPlane + segment;
    }

    private void requireIndex(String what, int value, int bound) {
        if (value < 0 || value >= bound) {
            throw new IndexOutOfBoundsException(what + ": " + value + " (expected: 0 to " + (bound - 1)
                    + " in engine KV memory of " + layout.numLayers() + " layers, " + layout.planes() + " planes, "
                    + numSlots + " slots)");
        }
    }

    private static int slotsHeldByAll(KvLayout layout, List<MemorySegment> keys, List<MemorySegment> values) {
        requireLayers("keys", keys, layout.numLayers());
        requireLayers("values", values, layout.numLayers());
        long min = Long.MAX_VALUE;
        for (int i = 0; i < layout.numLayers(); i++) {
            min = Math.min(min, Math.min(requireSize("keys[" + i + "]", keys.get(i), 0).byteSize(),
                    requireSize("values[" + i + "]", values.get(i), 0).byteSize()));
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

    private static MemorySegment requireSize(String what, MemorySegment s, long needBytes) {
        return requireSize(what, s, needBytes, "the declared slots");
    }

    private static MemorySegment requireSize(String what, MemorySegment s, long needBytes, String holding) {
        if (s == null) {
            throw new IllegalArgumentException(what + ": null (expected: a memory segment)");
        }
        if (s.byteSize() < needBytes) {
            throw new IllegalArgumentException(what + ": " + s.byteSize() + " bytes (expected: at least "
                    + needBytes + " for " + holding + ")");
        }
        return s;
    }

    /** A thread that owns no arena: memory it may access, any thread may. */
    private static final Thread ANOTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    private static boolean accessibleByAnyThread(MemorySegment[] segments) {
        for (MemorySegment s : segments) {
            if (s != null && !s.isAccessibleBy(ANOTHER_THREAD)) {
                return false;
            }
        }
        return true;
    }

    private static void requireBlocks(int numBlocks, int blockSize) {
        if (numBlocks < 0 || blockSize <= 0 || (long) numBlocks * blockSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("numBlocks: " + numBlocks + ", blockSize: " + blockSize
                    + " (expected: numBlocks >= 0, blockSize > 0, numBlocks * blockSize < 2^31)");
        }
    }
}
