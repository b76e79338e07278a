package org.lmcache4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

/** Model shapes and engine KV buffers for benchmarks. */
public final class BenchKv {

    private BenchKv() {
    }

    /** A named model's KV layout: qwen2.5-0.5b (12 KiB/token), qwen2.5-1.5b (28 KiB), llama-3.1-8b (128 KiB), tiny (32 B). */
    public static KvLayout layout(String model) {
        return switch (model.toLowerCase(Locale.ROOT)) {
            case "qwen2.5-0.5b" -> KvLayout.standard(24, 2, 64, KvDtype.BF16);
            case "qwen2.5-1.5b" -> KvLayout.standard(28, 2, 128, KvDtype.BF16);
            case "llama-3.1-8b" -> KvLayout.standard(32, 8, 128, KvDtype.BF16);
            case "tiny" -> KvLayout.standard(1, 1, 8, KvDtype.FP16);
            default -> throw new IllegalArgumentException("model: '" + model
                    + "' (expected: qwen2.5-0.5b, qwen2.5-1.5b, llama-3.1-8b or tiny)");
        };
    }

    /** A contiguous engine cache of {@code slots} tokens, filled with random bytes. */
    public static HostKvMemory contiguous(Arena arena, KvLayout layout, int slots, long seed) {
        List<MemorySegment> k = new ArrayList<>();
        List<MemorySegment> v = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(seed);
        for (int l = 0; l < layout.numLayers(); l++) {
            k.add(random(arena, (long) slots * layout.rowBytes(), r));
            v.add(random(arena, (long) slots * layout.rowBytes(), r));
        }
        return HostKvMemory.contiguous(layout, k, v);
    }

    private static MemorySegment random(Arena arena, long bytes, SplittableRandom r) {
        MemorySegment s = arena.allocate(bytes, 4096);
        for (long off = 0; off + 8 <= bytes; off += 8) {
            s.set(ValueLayout.JAVA_LONG_UNALIGNED, off, r.nextLong());
        }
        return s;
    }

    /** Random token ids. */
    public static int[] tokens(long seed, int n) {
        return new SplittableRandom(seed).ints(n, 0, 32000).toArray();
    }

    /** Slots 0..n-1. */
    public static int[] identity(int n) {
        int[] s = new int[n];
        for (int i = 0; i < n; i++) {
            s[i] = i;
        }
        return s;
    }

    /**
     * The raw-copy baseline of a retrieve: the same bytes moved from one flat buffer into the engine's
     * per-layer planes, one bulk copy per plane.
     */
    public static void rawCopy(MemorySegment flat, HostKvMemory kv, int tokens) {
        long planeBytes = (long) tokens * kv.layout().rowBytes();
        long off = 0;
        for (int plane = 0; plane < kv.layout().planes(); plane++) {
            for (int layer = 0; layer < kv.layout().numLayers(); layer++) {
                MemorySegment.copy(flat, off, kv.plane(layer, plane), 0, planeBytes);
                off += planeBytes;
            }
        }
    }
}
