package org.lmcache4j.examples.demo;

import java.util.Arrays;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.bench.workload.RunSeries;

/**
 * A hit's retrieve measured as its baseline is ({@link RawCopy}: the median of {@value RawCopy#REPEATS}, the CPU's
 * caches evicted before each): the cached request's own lookup and retrieve, then {@value RawCopy#REPEATS} - 1
 * more of the same prefix into the same slots, timed as the engine times its own (the lookup and the retrieve).
 * One sample against a median of three let a moment of a busy host decide the ratio: in one demo run a cpu hit
 * took 52.6 ms, 1.66x its baseline, where the other runs' took 0.7-1.4x. The request's TTFT is not repeated.
 */
final class RetrieveRepeats {

    private RetrieveRepeats() {
    }

    /**
     * The times of the request's retrieve ({@code firstMs}) and of its repeats, in milliseconds: each repeat
     * looks up and retrieves the first {@code cachedTokens} tokens of {@code prompt} into {@code slots} of
     * {@code kv} after {@code evictor} evicted the caches. A repeat that does not get all those tokens back (a
     * chunk evicted since) ends the repeats, and is not counted. Overwrites those slots: call it only while no
     * request holds them.
     */
    static double[] measure(KvConnector cache, RawCopy evictor, HostKvMemory kv, int[] prompt, int[] slots, int cachedTokens,
                            double firstMs) {
        if (cachedTokens <= 0 || cachedTokens > prompt.length || cachedTokens > slots.length) {
            throw new IllegalArgumentException("cachedTokens: " + cachedTokens + " (expected: 1 to " + Math.min(prompt.length, slots.length)
                    + ", the prompt's and the slots' length)");
        }
        int[] prefix = Arrays.copyOf(prompt, cachedTokens);
        int[] prefixSlots = Arrays.copyOf(slots, cachedTokens);
        double[] runs = new double[RawCopy.REPEATS];
        runs[0] = firstMs;
        int n = 1;
        while (n < runs.length) {
            evictor.evictCaches();
            long t0 = System.nanoTime();
            int hit = cache.lookup(prefix);
            int got = hit == cachedTokens ? cache.retrieve(prefix, kv, prefixSlots) : 0;
            long nanos = System.nanoTime() - t0;
            if (got != cachedTokens) {
                break;
            }
            runs[n++] = nanos / 1e6;
        }
        return Arrays.copyOf(runs, n);
    }

    /** The median of {@code runs} as the bench takes its runs' ({@link RunSeries#median}). */
    static double median(double[] runs) {
        return RunSeries.median(Arrays.stream(runs).boxed().toList());
    }
}
