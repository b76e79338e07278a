package org.lmcache4j.examples.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.nativeio.OffHeapSlab;

/**
 * The engine's KV cache: per layer, one off-heap K segment and one V segment of
 * {@code [numBlocks][BLOCK_TOKENS][kvHeads * headDim]} floats (vLLM's paged layout), handed out to
 * sequences block by block. This is the memory the connector reads in {@code store} and writes in
 * {@code retrieve}, through the {@link HostKvMemory} view.
 *
 * <p>Free blocks start in a seeded shuffled order, as in an engine that has served requests for a
 * while, so a prompt's slots are scattered and the connector's slot mapping is really exercised.
 *
 * <p>Like a real engine's KV pool, the memory is touched once, at construction, and reused by every
 * request: a retrieve into it never pays first-touch page faults, which cost tens of times more than the
 * copy itself on the virtual machines this project is measured on (docs/PERFORMANCE.md). It is one
 * anonymous mapping advised for transparent huge pages before that touch ({@link OffHeapSlab#map}, as the
 * cpu tier's slabs are; plain JDK memory where there is no C library): on those machines 4 KiB pages left
 * idle for seconds cost up to twice as much to copy into again (the host takes back what the guest leaves
 * untouched), huge pages did not (docs/PERFORMANCE.md, "Idle memory"), and a request's KV is written
 * seconds after the pool was last touched.
 */
public final class PagedKvMemory implements AutoCloseable {

    /** Tokens per block (vLLM's default on GPUs is 16). */
    public static final int BLOCK_TOKENS = 16;

    private static final long PAGE_BYTES = 4096;

    private final KvLayout layout;
    private final int numBlocks;
    private final OffHeapSlab slab;
    private final List<MemorySegment> keys = new ArrayList<>();
    private final List<MemorySegment> values = new ArrayList<>();
    private final HostKvMemory host;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();

    /** Allocates {@code numBlocks} blocks for {@code layout} (FP32 rows). */
    public PagedKvMemory(KvLayout layout, int numBlocks) {
        this.layout = layout;
        this.numBlocks = numBlocks;
        long bytes = (long) numBlocks * BLOCK_TOKENS * layout.rowBytes();
        long stride = Math.ceilDiv(bytes, PAGE_BYTES) * PAGE_BYTES; // each plane starts on a page
        this.slab = OffHeapSlab.map(stride * 2 * layout.numLayers());
        boolean ok = false;
        try {
            MemorySegment all = touchPages(slab.segment());
            for (int l = 0; l < layout.numLayers(); l++) {
                keys.add(all.asSlice(stride * 2 * l, bytes));
                values.add(all.asSlice(stride * (2 * l + 1), bytes));
            }
            this.host = HostKvMemory.paged(layout, numBlocks, BLOCK_TOKENS, keys, values);
            int[] order = new int[numBlocks];
            for (int i = 0; i < numBlocks; i++) {
                order[i] = i;
            }
            SplittableRandom random = new SplittableRandom(numBlocks);
            for (int i = numBlocks - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int b : order) {
                free.add(b);
            }
            ok = true;
        } finally {
            if (!ok) {
                slab.close();
            }
        }
    }

    /** Writes a zero into every 4 KiB page of {@code segment} (fresh memory), so that each is faulted in now; returns it. */
    static MemorySegment touchPages(MemorySegment segment) {
        for (long at = 0; at < segment.byteSize(); at += PAGE_BYTES) {
            segment.set(ValueLayout.JAVA_BYTE, at, (byte) 0);
        }
        return segment;
    }

    public KvLayout layout() {
        return layout;
    }

    /** The view the connector reads and writes. */
    public HostKvMemory host() {
        return host;
    }

    /** Blocks in total. */
    public int numBlocks() {
        return numBlocks;
    }

    /** Blocks not held by a sequence. */
    public synchronized int freeBlocks() {
        return free.size();
    }

    MemorySegment keys(int layer) {
        return keys.get(layer);
    }

    MemorySegment values(int layer) {
        return values.get(layer);
    }

    /** Takes {@code count} free blocks; fails naming the shortfall when there are not enough. */
    synchronized int[] allocate(int count) {
        if (count > free.size()) {
            throw new IllegalStateException("engine KV memory: " + count + " blocks wanted, " + free.size() + " of "
                    + numBlocks + " free (expected: a larger --kv-capacity or fewer live sequences)");
        }
        int[] blocks = new int[count];
        for (int i = 0; i < count; i++) {
            blocks[i] = free.poll();
        }
        return blocks;
    }

    synchronized void release(int[] blocks) {
        for (int b : blocks) {
            free.push(b);
        }
    }

    /** Frees the memory; idempotent. */
    @Override
    public void close() {
        slab.close();
    }
}
