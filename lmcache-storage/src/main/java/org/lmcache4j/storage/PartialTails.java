package org.lmcache4j.storage;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.lmcache4j.api.ChunkKey;

/**
 * Remembers which partial chunks were stored behind which parent key, so that a longer prompt that
 * extends a stored prompt ending in a partial chunk still hits that partial chunk: without it, the
 * longer prompt's full chunk has a different key and the partial tail would never be found. Bounded
 * (least recently used parents are forgotten, which only costs hits). Thread-safe.
 */
final class PartialTails {

    private static final int[] NONE = new int[0];

    private final Map<ChunkKey, int[]> lengthsByParent;

    PartialTails(int maxParents) {
        this.lengthsByParent = new LinkedHashMap<>(256, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<ChunkKey, int[]> eldest) {
                return size() > maxParents;
            }
        };
    }

    /** Records that a partial chunk of {@code length} tokens was stored behind {@code parent}. */
    synchronized void add(ChunkKey parent, int length) {
        int[] known = lengthsByParent.getOrDefault(parent, NONE);
        if (Arrays.binarySearch(known, length) >= 0) {
            return;
        }
        int[] grown = Arrays.copyOf(known, known.length + 1);
        grown[known.length] = length;
        Arrays.sort(grown);
        lengthsByParent.put(parent, grown);
    }

    /** Lengths of partial chunks stored behind {@code parent}, ascending; empty when none. */
    synchronized int[] lengths(ChunkKey parent) {
        return lengthsByParent.getOrDefault(parent, NONE);
    }

    synchronized void clear() {
        lengthsByParent.clear();
    }
}
