package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;

/**
 * The gather and scatter kernels' one by-value parameter: {@code struct KvCopyArgs} of {@code kv_copy.cu},
 * field for field (the CPU emulation test checks {@link #LAYOUT} against the compiler's {@code sizeof} and
 * {@code offsetof}), plus the launch shape that goes with it.
 *
 * <p>The kernel copies {@code numTokens} rows of {@code rowBytes} for each of {@code planes x numLayers}
 * (plane, layer) pairs: engine row of token t = the row of {@code slots[t]} in the layer's tensor at
 * {@code layerPointers[layer]}; chunk row = {@code chunk + plane * chunkPlaneStride + layer * chunkLayerStride
 * + t * rowBytes}. Negative slots are skipped.
 */
record KvCopyArgs(long layerPointers, long slots, long chunk, long chunkPlaneStride, long chunkLayerStride,
                  int numLayers, int numTokens, int planes, int format, int numBlocks, int blockSize, int rowBytes,
                  int vectorBytes) {

    /** {@code KV_FORMAT_*} of kv_copy.cu. */
    static final int FORMAT_VLLM = 0;
    static final int FORMAT_FLASH_INFER = 1;
    static final int FORMAT_MLA = 2;

    /** Threads per block: 8 warps, enough to keep a memory-bound copy busy without shared memory. */
    static final int BLOCK_THREADS = 256;

    /** Upper bound of the grid's x extent; the kernel's grid-stride loop covers any remainder. */
    static final int MAX_GRID_X = 4096;

    /** Upper bound of the grid's y extent in CUDA (planes x layers of one launch). */
    static final int MAX_GRID_Y = 65_535;

    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("layer_ptrs"),
            JAVA_LONG.withName("slots"),
            JAVA_LONG.withName("chunk"),
            JAVA_LONG.withName("chunk_plane_stride"),
            JAVA_LONG.withName("chunk_layer_stride"),
            JAVA_INT.withName("num_layers"),
            JAVA_INT.withName("num_tokens"),
            JAVA_INT.withName("planes"),
            JAVA_INT.withName("format"),
            JAVA_INT.withName("num_blocks"),
            JAVA_INT.withName("block_size"),
            JAVA_INT.withName("row_bytes"),
            JAVA_INT.withName("vector_bytes"));

    KvCopyArgs {
        if (numLayers <= 0 || numTokens <= 0 || (planes != 1 && planes != 2) || rowBytes <= 0 || blockSize <= 0) {
            throw new IllegalArgumentException("kernel arguments: " + numLayers + " layers, " + numTokens + " tokens, " + planes
                    + " planes, " + rowBytes + " row bytes, block size " + blockSize + " (expected: all > 0, planes 1 or 2)");
        }
        if (format < FORMAT_VLLM || format > FORMAT_MLA) {
            throw new IllegalArgumentException("format: " + format + " (expected: 0 VLLM, 1 FLASH_INFER or 2 MLA)");
        }
        if ((long) numTokens * rowBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("rows of one launch: " + numTokens + " tokens x " + rowBytes
                    + " bytes (expected: below 2 GiB per plane and layer; the kernel's index is 32-bit)");
        }
        if ((long) planes * numLayers > MAX_GRID_Y) {
            throw new IllegalArgumentException("planes x layers: " + planes + " x " + numLayers + " (expected: at most "
                    + MAX_GRID_Y + ", CUDA's grid y limit)");
        }
        long aligned = rowBytes | chunk | chunkPlaneStride | chunkLayerStride;
        if (Integer.bitCount(vectorBytes) != 1 || vectorBytes > 16 || vectorBytes == 2 || (aligned & (vectorBytes - 1)) != 0) {
            throw new IllegalArgumentException("vectorBytes: " + vectorBytes + " (expected: 16, 8, 4 or 1, dividing row bytes "
                    + rowBytes + ", the chunk address and its strides)");
        }
    }

    /** The struct's bytes, ready to be the kernel's parameter. */
    MemorySegment write(SegmentAllocator allocator) {
        MemorySegment s = allocator.allocate(LAYOUT);
        s.set(JAVA_LONG, 0, layerPointers);
        s.set(JAVA_LONG, 8, slots);
        s.set(JAVA_LONG, 16, chunk);
        s.set(JAVA_LONG, 24, chunkPlaneStride);
        s.set(JAVA_LONG, 32, chunkLayerStride);
        int[] ints = {numLayers, numTokens, planes, format, numBlocks, blockSize, rowBytes, vectorBytes};
        for (int i = 0; i < ints.length; i++) {
            s.set(JAVA_INT, 40 + 4L * i, ints[i]);
        }
        return s;
    }

    /** Grid x: enough blocks for one vector per thread, at most {@link #MAX_GRID_X}. */
    int gridX() {
        long vectors = (long) numTokens * (rowBytes / vectorBytes);
        return (int) Math.min(MAX_GRID_X, Math.max(1, (vectors + BLOCK_THREADS - 1) / BLOCK_THREADS));
    }

    /** Grid y: one row of blocks per (plane, layer). */
    int gridY() {
        return planes * numLayers;
    }
}
