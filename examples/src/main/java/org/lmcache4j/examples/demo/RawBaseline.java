package org.lmcache4j.examples.demo;

/**
 * What a cache hit's retrieve is compared with: the same bytes moved from the same place by plain means
 * (a {@code MemorySegment.copy}, or a plain read of the same chunk files), in the same run and, for
 * files, the same page-cache state.
 *
 * @param ms            time of the plain move; NaN when there is none (a miss) or it could not be measured
 * @param bytes         bytes the plain move moved
 * @param method        how it moved them, in a sentence
 * @param cacheState    for a read of files: the page-cache state both it and the retrieve started from
 *                      ({@code cold}, {@code warm} or {@code unknown}); empty for a memory copy
 * @param cacheStateHow how that state was established and checked; empty for a memory copy
 */
record RawBaseline(double ms, long bytes, String method, String cacheState, String cacheStateHow) {

    /** No baseline: the row did not hit. */
    static final RawBaseline NONE = new RawBaseline(Double.NaN, 0, "", "", "");

    RawBaseline {
        if (method == null || cacheState == null || cacheStateHow == null) {
            throw new IllegalArgumentException("method, cacheState and cacheStateHow: must not be null");
        }
    }

    /** True when the plain move was read from files, so the page-cache state matters. */
    boolean fromFiles() {
        return !cacheState.isEmpty();
    }
}
