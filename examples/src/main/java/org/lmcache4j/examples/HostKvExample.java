package org.lmcache4j.examples;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.examples.engine.KvCheck;

/**
 * A host-memory engine's use of the connector, end to end: request 1 stores the KV of a long shared
 * prefix; request 2 (same prefix, new question) looks it up, retrieves it into a different paged
 * cache, and checks it byte for byte. Run with {@code bin/lmcache example [prefixTokens]}.
 */
public final class HostKvExample {

    private HostKvExample() {
    }

    public static void main(String[] args) {
        int prefixTokens = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
        // Qwen2.5-0.5B's KV shape: 24 layers, 2 KV heads of 64, bf16 = 12 KiB per token.
        KvLayout layout = KvLayout.standard(24, 2, 64, KvDtype.BF16);
        LmCacheConfig config = LmCacheConfig.builder().modelId("qwen2.5-0.5b-shaped").fromEnvironment().build();

        int[] prefix = randomTokens(1, prefixTokens);
        int[] request1 = concat(prefix, randomTokens(2, 100));
        int[] request2 = concat(prefix, randomTokens(3, 80));

        try (Arena arena = Arena.ofConfined(); KvConnector cache = KvConnectors.open(config, layout)) {
            // Request 1: the engine prefilled all tokens into a contiguous cache; store them.
            HostKvMemory engine1 = allocate(arena, layout, request1.length);
            fillLikePrefill(engine1, request1.length);
            int[] slots1 = identity(request1.length);
            long t0 = System.nanoTime();
            int stored = cache.store(request1, engine1, slots1);
            long storeNs = System.nanoTime() - t0;

            // Request 2: a paged cache of 16-token blocks; blocks handed out in reverse order.
            int blockSize = 16;
            int blocks = Math.ceilDiv(request2.length, blockSize);
            HostKvMemory engine2 = allocatePaged(arena, layout, blocks, blockSize);
            int[] slots2 = new int[request2.length];
            for (int i = 0; i < slots2.length; i++) {
                slots2[i] = (blocks - 1 - i / blockSize) * blockSize + i % blockSize;
            }
            int hit = Math.min(cache.lookup(request2), request2.length - 1); // recompute the last token for logits
            t0 = System.nanoTime();
            int retrieved = cache.retrieve(Arrays.copyOf(request2, hit), engine2, Arrays.copyOf(slots2, hit));
            long retrieveNs = System.nanoTime() - t0;
            boolean identical = KvCheck.identical(engine1, slots1, engine2, slots2, retrieved);

            double mib = (double) retrieved * layout.bytesPerToken() / (1 << 20);
            System.out.printf("layout            %s, %d bytes/token, %d tokens/chunk%n", layout, layout.bytesPerToken(),
                    cache.chunkTokens());
            System.out.printf("request 1         %d tokens, stored %d in %.2f ms%n", request1.length, stored, storeNs / 1e6);
            System.out.printf("request 2         %d tokens, lookup hit %d, retrieved %d (%.1f MiB) in %.2f ms (%.1f GB/s)%n",
                    request2.length, hit, retrieved, mib, retrieveNs / 1e6, retrieved * (double) layout.bytesPerToken() / retrieveNs);
            System.out.printf("engine computes   %d new tokens instead of %d%n", request2.length - retrieved, request2.length);
            System.out.printf("kv identical      %b%n", identical);
            System.out.printf("stats             %s%n", cache.stats());
            if (!identical) {
                System.exit(1);
            }
        }
    }

    static HostKvMemory allocate(Arena arena, KvLayout layout, int slots) {
        List<MemorySegment> k = new ArrayList<>();
        List<MemorySegment> v = new ArrayList<>();
        for (int l = 0; l < layout.numLayers(); l++) {
            k.add(arena.allocate((long) slots * layout.rowBytes(), 64));
            v.add(arena.allocate((long) slots * layout.rowBytes(), 64));
        }
        return HostKvMemory.contiguous(layout, k, v);
    }

    static HostKvMemory allocatePaged(Arena arena, KvLayout layout, int blocks, int blockSize) {
        List<MemorySegment> k = new ArrayList<>();
        List<MemorySegment> v = new ArrayList<>();
        for (int l = 0; l < layout.numLayers(); l++) {
            k.add(arena.allocate((long) blocks * blockSize * layout.rowBytes(), 64));
            v.add(arena.allocate((long) blocks * blockSize * layout.rowBytes(), 64));
        }
        return HostKvMemory.paged(layout, blocks, blockSize, k, v);
    }

    /** Stands in for prefill: deterministic bytes per position. */
    static void fillLikePrefill(HostKvMemory kv, int tokens) {
        SplittableRandom r = new SplittableRandom(42);
        for (int l = 0; l < kv.layout().numLayers(); l++) {
            for (int p = 0; p < kv.layout().planes(); p++) {
                MemorySegment s = kv.plane(l, p);
                for (long off = 0; off + 8 <= (long) tokens * kv.layout().rowBytes(); off += 8) {
                    s.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, off, r.nextLong());
                }
            }
        }
    }

    static int[] randomTokens(long seed, int n) {
        return new SplittableRandom(seed).ints(n, 0, 32000).toArray();
    }

    static int[] identity(int n) {
        int[] s = new int[n];
        Arrays.setAll(s, i -> i);
        return s;
    }

    static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
