package org.lmcache4j.storage;

import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvLayout;

/**
 * The host copy engine: gathers tokens from host engine KV into a chunk buffer and scatters them back.
 *
 * <p>A chunk buffer of n tokens is laid out {@code [plane][layer][token][row]}: plane 0 is K (or the MLA
 * latent), plane 1 is V. Tokens whose slots are consecutive in engine memory (a contiguous cache, or the
 * tokens of one paged block) form a run that moves with one bulk {@link MemorySegment#copy} per layer
 * and plane; a negative slot ends a run and is skipped.
 */
final class HostKvCopier {

    private HostKvCopier() {
    }

    /** Copies tokens {@code [from, to)} (slots all &gt;= 0) from {@code kv} into {@code chunk}. */
    static void gather(HostKvMemory kv, int[] slots, int from, int to, MemorySegment chunk) {
        copy(kv, slots, from, to, from, chunk, true);
    }

    /**
     * Copies {@code chunk}, holding tokens {@code [from, to)}, into {@code kv} for the tokens at or after
     * {@code writeFrom}; tokens with negative slots are not written.
     */
    static void scatter(MemorySegment chunk, HostKvMemory kv, int[] slots, int from, int to, int writeFrom) {
        copy(kv, slots, from, to, Math.max(from, writeFrom), chunk, false);
    }

    private static void copy(HostKvMemory kv, int[] slots, int from, int to, int first, MemorySegment chunk,
                             boolean toChunk) {
        KvLayout layout = kv.layout();
        long row = layout.rowBytes();
        int tokens = to - from;
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
            int runTokens = t - runStart;
            long engineOffset = slots[runStart] * row;
            long runBytes = runTokens * row;
            for (int plane = 0; plane < layout.planes(); plane++) {
                for (int layer = 0; layer < layout.numLayers(); layer++) {
                    MemorySegment engine = kv.plane(layer, plane);
                    long chunkOffset = ((long) (plane * layout.numLayers() + layer) * tokens + (runStart - from)) * row;
                    if (toChunk) {
                        MemorySegment.copy(engine, engineOffset, chunk, chunkOffset, runBytes);
                    } else {
                        MemorySegment.copy(chunk, chunkOffset, engine, engineOffset, runBytes);
                    }
                }
            }
        }
    }
}
