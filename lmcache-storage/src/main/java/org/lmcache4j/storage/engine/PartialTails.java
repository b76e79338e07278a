package org.lmcache4j.storage.engine;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Arrays;
import org.lmcache4j.api.ChunkKey;

/**
 * Remembers which partial chunks were stored behind which parent key, so that a longer prompt that
 * extends a stored prompt ending in a partial chunk still hits that partial chunk: without it, the
 * longer prompt's full chunk has a different key and the partial tail would never be found. Bounded
 * (parents beyond the capacity are forgotten, which only costs hits); thread-safe without a global lock,
 * since every lookup that misses a full chunk asks it.
 */
final class PartialTails {

    private static final int[] NONE = new int[0];

    private final Cache<ChunkKey, int[]> lengthsByParent;

    PartialTails(int maxParents) {
        this.lengthsByParent = Caffeine.newBuilder().maximumSize(maxParents).build();
    }

    /** Records that a partial chunk of {@code length} tokens was stored behind {@code parent}. */
    void add(ChunkKey parent, int length) {
        lengthsByParent.asMap().compute(parent, (p, known) -> {
            int[] k = known == null ? NONE : known;
            if (Arrays.binarySearch(k, length) >= 0) {
                return k;
            }
            int[] grown = Arrays.copyOf(k, k.length + 1);
            grown[k.length] = length;
            Arrays.sort(grown);
            return grown; // a new array: readers may hold the old one
        });
    }

    /** Lengths of partial chunks stored behind {@code parent}, ascending; empty when none. Do not modify. */
    int[] lengths(ChunkKey parent) {
        int[] known = lengthsByParent.getIfPresent(parent);
        return known == null ? NONE : known;
    }

    void clear() {
        lengthsByParent.invalidateAll();
    }
}
