package org.lmcache4j.bench.workload;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvLayout;

/**
 * Stands in for a model when the connector is benchmarked alone: writes KV bytes that depend on the
 * whole prefix (as real KV does) and charges {@code 1 / tokensPerSecond} of compute per token, without
 * spending it, in place of the time its own writes take (see {@link #countsItsOwnTime}), so a run of a
 * 8B-shaped model finishes in seconds while its TTFTs keep their proportions.
 */
public final class SyntheticPrefill implements Prefill {

    private final double tokensPerSecond;

    public SyntheticPrefill(double tokensPerSecond) {
        if (!(tokensPerSecond > 0)) {
            throw new IllegalArgumentException("tokensPerSecond: " + tokensPerSecond + " (expected: > 0)");
        }
        this.tokensPerSecond = tokensPerSecond;
    }

    @Override
    public long prefill(int[] tokens, int from, HostKvMemory kv, int[] slots) {
        KvLayout layout = kv.layout();
        long row = layout.rowBytes();
        long h = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < from; i++) {
            h = mix(h ^ tokens[i]);
        }
        for (int i = from; i < tokens.length; i++) {
            h = mix(h ^ tokens[i]);
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                for (int plane = 0; plane < layout.planes(); plane++) {
                    MemorySegment s = kv.plane(layer, plane);
                    long base = slots[i] * row;
                    long v = mix(h + layer * 31L + plane);
                    for (long off = 0; off + 8 <= row; off += 8) {
                        s.set(ValueLayout.JAVA_LONG_UNALIGNED, base + off, v + off);
                    }
                }
            }
        }
        return chargedNanos(tokens.length, from);
    }

    /**
     * The KV bytes written here are the device's: on a GPU the host waits while they are written, so the time
     * the host takes to write them (and how much the connector's background work slows that) is not counted.
     */
    @Override
    public boolean countsItsOwnTime() {
        return false;
    }

    @Override
    public long chargedNanos(int tokens, int from) {
        return (long) ((tokens - from) / tokensPerSecond * 1e9);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
