package org.lmcache4j.examples.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * One request's place in the engine: its blocks of {@link PagedKvMemory}, the slot of each position,
 * and how many positions hold KV. K and V rows live in the paged memory, which is what the connector
 * stores from and retrieves into. Attention reads per-sequence copies laid out for its kernels: K
 * transposed per layer ("key panels": {@code [pos / L][kvDim][L]} for vector length L, so query-key
 * scores vectorise across keys without horizontal sums) and V head-major ({@code [kvHead][pos][headDim]}).
 * The copies are only ever built from the paged rows ({@link #refresh}), after each prefill step for the
 * positions it computed and after a retrieve for the retrieved ones: attention always uses exactly the
 * bytes that are in paged memory, whoever wrote them.
 */
public final class Sequence implements AutoCloseable {

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;

    private final PagedKvMemory memory;
    private final int kvDim;
    private final int headDim;
    private final int capacity;
    private final int[] blocks;
    private final int[] slots;
    private final KvCopies copies;
    private final Consumer<KvCopies> release;
    private final float[][] keyPanels;
    private final float[][] valueRows;
    private final int rowsCapacity;
    private int length;
    private boolean closed;

    /** A sequence with attention copies of its own. */
    Sequence(PagedKvMemory memory, int capacity) {
        this(memory, capacity, new KvCopies(memory.layout().numLayers(), memory.layout().tokenDim(), capacity), c -> { });
    }

    /** A sequence using {@code copies} (at least {@code capacity} positions), handed to {@code release} when closed. */
    Sequence(PagedKvMemory memory, int capacity, KvCopies copies, Consumer<KvCopies> release) {
        if (copies.capacity < capacity) {
            throw new IllegalArgumentException("copies: " + copies.capacity + " positions (expected: at least " + capacity + ")");
        }
        this.memory = memory;
        this.kvDim = memory.layout().tokenDim();
        this.headDim = memory.layout().headDim();
        this.capacity = capacity;
        this.blocks = memory.allocate(Math.ceilDiv(capacity, PagedKvMemory.BLOCK_TOKENS));
        this.slots = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            slots[i] = blocks[i / PagedKvMemory.BLOCK_TOKENS] * PagedKvMemory.BLOCK_TOKENS + i % PagedKvMemory.BLOCK_TOKENS;
        }
        this.copies = copies;
        this.release = release;
        this.keyPanels = copies.keyPanels;
        this.valueRows = copies.valueRows;
        this.rowsCapacity = copies.capacity;
    }

    /** Positions whose KV is in memory. */
    public int length() {
        return length;
    }

    /** Positions this sequence can hold. */
    public int capacity() {
        return capacity;
    }

    /** The slots of positions {@code 0 .. n-1}: the connector's slot mapping. */
    public int[] slots(int n) {
        return Arrays.copyOf(slots, n);
    }

    int slot(int position) {
        return slots[position];
    }

    void setLength(int length) {
        if (length < 0 || length > capacity) {
            throw new IllegalArgumentException("length: " + length + " (expected: 0 to " + capacity + ")");
        }
        this.length = length;
    }

    float[] keyPanel(int layer) {
        return keyPanels[layer];
    }

    float[] valueRows(int layer) {
        return valueRows[layer];
    }

    /** Positions per KV head in {@link #valueRows}: V of head g, position p is at {@code (g * rowsCapacity + p) * headDim}. */
    int rowsCapacity() {
        return rowsCapacity;
    }

    /** Writes one position's K ({@code src[kOffset..]}) and V ({@code src[vOffset..]}) rows of a layer into paged memory. */
    void putKv(int layer, int position, float[] src, int kOffset, int vOffset) {
        long at = (long) slots[position] * kvDim * Float.BYTES;
        MemorySegment.copy(src, kOffset, memory.keys(layer), FLOAT, at, kvDim);
        MemorySegment.copy(src, vOffset, memory.values(layer), FLOAT, at, kvDim);
    }

    /** Copies one position's K row of a layer from paged memory into {@code dst} at {@code offset}. */
    void readKey(int layer, int position, float[] dst, int offset) {
        MemorySegment.copy(memory.keys(layer), FLOAT, (long) slots[position] * kvDim * Float.BYTES, dst, offset, kvDim);
    }

    /** Writes one position's K row of a layer into paged memory and attention's copy of it. */
    void writeKey(int layer, int position, float[] src, int offset, float[] row) {
        MemorySegment.copy(src, offset, memory.keys(layer), FLOAT, (long) slots[position] * kvDim * Float.BYTES, kvDim);
        refresh(layer, position, position + 1, row);
    }

    /**
     * Rebuilds attention's copies of positions {@code from .. to-1} of a layer from the paged rows: after
     * each prefill step for the positions it computed, and after a retrieve for the retrieved ones.
     */
    void refresh(int layer, int from, int to, float[] row) {
        MemorySegment k = memory.keys(layer);
        MemorySegment v = memory.values(layer);
        float[] panel = keyPanels[layer];
        float[] values = valueRows[layer];
        for (int p = from; p < to; p++) {
            long at = (long) slots[p] * kvDim * Float.BYTES;
            MemorySegment.copy(k, FLOAT, at, row, 0, kvDim);
            panelize(panel, p, row, 0);
            for (int g = 0; g < kvDim / headDim; g++) {
                MemorySegment.copy(v, FLOAT, at + (long) g * headDim * Float.BYTES, values, (g * rowsCapacity + p) * headDim, headDim);
            }
        }
    }

    /** {@link #refresh} of every layer, layers in parallel. */
    void refreshAll(int from, int to, WorkerPool pool) {
        pool.run(keyPanels.length, (layer, worker) -> refresh(layer, from, to, new float[kvDim]));
    }

    private void panelize(float[] panel, int position, float[] src, int offset) {
        int l = VectorMath.L;
        int base = (position / l) * kvDim * l + position % l;
        for (int e = 0; e < kvDim; e++) {
            panel[base + e * l] = src[offset + e];
        }
    }

    /** Returns the blocks and the attention copies to the engine; idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            memory.release(blocks);
            release.accept(copies);
        }
    }
}
