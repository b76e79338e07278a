package org.lmcache4j.storage.copy;

import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvLayout;

/**
 * The host copy engine: gathers tokens from host engine KV into a chunk buffer and scatters them back.
 *
 * <p>A chunk buffer of n tokens is laid out {@code [plane][layer][token][row]}: plane 0 is K (or the MLA
 * latent), plane 1 is V. Tokens whose slots are consecutive in engine memory (a contiguous cache, or the
 * tokens of one paged block) form a run that moves with one bulk {@link MemorySegment#copy} per layer
 * and plane; a negative slot ends a run and is skipped. The runs are found once, then each layer and plane
 * is copied whole, run after run, so the chunk side is read or written in order; the layers and planes are
 * shared out over {@link CopyLanes}. In memory whose blocks are separate allocations, a run that crosses a
 * block boundary is copied one block at a time.
 */
final class HostKvCopier {

    /** A thread that owns no arena: memory it may access, any copy lane may. */
    private static final Thread ANOTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    private HostKvCopier() {
    }

    /** Copies tokens {@code [from, to)} (slots all &gt;= 0) from {@code kv} into {@code chunk}. */
    static void gather(HostKvMemory kv, int[] slots, int from, int to, MemorySegment chunk, CopyLanes lanes) {
        copy(kv, slots, from, to, from, chunk, true, lanes, 0, kv.layout().numLayers());
    }

    /** {@link #gather(HostKvMemory, int[], int, int, MemorySegment, CopyLanes)} of {@code layer} only (both planes). */
    static void gatherLayer(HostKvMemory kv, int[] slots, int from, int to, MemorySegment chunk, int layer) {
        copy(kv, slots, from, to, from, chunk, true, CopyLanes.inline(), layer, 1);
    }

    /** {@link #scatter(MemorySegment, HostKvMemory, int[], int, int, int, CopyLanes)} of {@code layer} only (both planes). */
    static void scatterLayer(MemorySegment chunk, HostKvMemory kv, int[] slots, int from, int to, int writeFrom, int layer) {
        copy(kv, slots, from, to, Math.max(from, writeFrom), chunk, false, CopyLanes.inline(), layer, 1);
    }

    /**
     * Copies {@code chunk}, holding tokens {@code [from, to)}, into {@code kv} for the tokens at or after
     * {@code writeFrom}; tokens with negative slots are not written.
     */
    static void scatter(MemorySegment chunk, HostKvMemory kv, int[] slots, int from, int to, int writeFrom, CopyLanes lanes) {
        copy(kv, slots, from, to, Math.max(from, writeFrom), chunk, false, lanes, 0, kv.layout().numLayers());
    }

    /** {@link #gather(HostKvMemory, int[], int, int, MemorySegment, CopyLanes)} on the caller's thread. */
    static void gather(HostKvMemory kv, int[] slots, int from, int to, MemorySegment chunk) {
        gather(kv, slots, from, to, chunk, CopyLanes.inline());
    }

    /** {@link #scatter(MemorySegment, HostKvMemory, int[], int, int, int, CopyLanes)} on the caller's thread. */
    static void scatter(MemorySegment chunk, HostKvMemory kv, int[] slots, int from, int to, int writeFrom) {
        scatter(chunk, kv, slots, from, to, writeFrom, CopyLanes.inline());
    }

    /** Copies layers {@code [firstLayer, firstLayer + layerCount)}, both planes, of tokens {@code [first, to)}. */
    private static void copy(HostKvMemory kv, int[] slots, int from, int to, int first, MemorySegment chunk,
                             boolean toChunk, CopyLanes lanes, int firstLayer, int layerCount) {
        KvLayout layout = kv.layout();
        long row = layout.rowBytes();
        int tokens = to - from;
        int[] runs = runs(slots, first, to); // pairs: first token of the run, tokens in it
        if (runs.length == 0) {
            return;
        }
        long bytes = 0;
        for (int r = 1; r < runs.length; r += 2) {
            bytes += runs[r] * row;
        }
        int layers = layout.numLayers();
        if (!sharedAcrossThreads(kv, chunk)) {
            lanes = CopyLanes.inline(); // memory of a confined arena: only its owner thread may copy it
        }
        lanes.forEach(layout.planes() * layerCount, bytes * layout.planes() * layerCount, task -> {
            int plane = task / layerCount;
            int layer = firstLayer + task % layerCount;
            long base = ((long) plane * layers + layer) * tokens * row;
            for (int r = 0; r < runs.length; r += 2) {
                int slot = slots[runs[r]];
                long chunkOffset = base + (runs[r] - from) * row;
                int left = runs[r + 1];
                while (left > 0) { // one piece per engine segment the run crosses (blocks allocated apart)
                    int n = Math.min(left, kv.rowsInSegmentFrom(slot));
                    MemorySegment engine = kv.segmentOf(layer, plane, slot);
                    if (toChunk) {
                        MemorySegment.copy(engine, kv.offsetOf(slot), chunk, chunkOffset, n * row);
                    } else {
                        MemorySegment.copy(chunk, chunkOffset, engine, kv.offsetOf(slot), n * row);
                    }
                    slot += n;
                    chunkOffset += n * row;
                    left -= n;
                }
            }
        });
    }

    /** True when threads other than the caller's may access the chunk and every segment of {@code kv}. */
    private static boolean sharedAcrossThreads(HostKvMemory kv, MemorySegment chunk) {
        return chunk.isAccessibleBy(ANOTHER_THREAD) && kv.sharedAcrossThreads();
    }

    /** The runs of consecutive non-negative slots in {@code [first, to)}, as (first token, token count) pairs. */
    private static int[] runs(int[] slots, int first, int to) {
        int[] out = new int[8];
        int n = 0;
        int t = first;
        while (t < to) {
            if (slots[t] < 0) {
                t++;
                continue;
            }
            int runStart = t;
            while (t + 1 < to && slots[t + 1] == slots[t] + 1) {
                t++;
            }
            t++;
            if (n + 2 > out.length) {
                out = java.util.Arrays.copyOf(out, out.length * 2);
            }
            out[n++] = runStart;
            out[n++] = t - runStart;
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
