package org.lmcache4j.storage.copy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.testing.SeededKv;

/** Bulk run copies agree with a plain per-token reference on random layouts and slot mappings. */
class HostKvCopierTest {

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void gatherAndScatterMatchAPerTokenReference(long seed) {
        check(seed, CopyLanes.inline());
    }

    /** The same with every copy split over three threads (layers and planes shared out). */
    @ParameterizedTest
    @ValueSource(longs = {11, 12, 13, 14, 15, 16, 17, 18})
    void copiesSplitOverLanesMatchTheReference(long seed) {
        try (CopyLanes lanes = new CopyLanes(3, 0)) {
            check(seed, lanes);
        }
    }

    /** Confined engine memory is copied on the caller's thread only (no WrongThreadException). */
    @ParameterizedTest
    @ValueSource(longs = {21, 22})
    void confinedMemoryIsCopiedInline(long seed) {
        try (CopyLanes lanes = new CopyLanes(3, 0)) {
            check(seed, lanes, Arena.ofConfined());
        }
    }

    /** Engine memory whose blocks are separate allocations: runs crossing a block boundary split there. */
    @ParameterizedTest
    @ValueSource(longs = {31, 32, 33, 34, 35, 36, 37, 38})
    void blocksAllocatedApartMatchTheReference(long seed) {
        try (CopyLanes lanes = new CopyLanes(2, 0)) {
            check(seed, lanes, Arena.ofShared(), SeededKv::blocks);
        }
    }

    private interface Memory {
        HostKvMemory make(Arena arena, KvLayout layout, int blocks, int blockSize);
    }

    private static void check(long seed, CopyLanes lanes) {
        check(seed, lanes, Arena.ofShared());
    }

    private static void check(long seed, CopyLanes lanes, Arena arenaToUse) {
        check(seed, lanes, arenaToUse, SeededKv::paged);
    }

    private static void check(long seed, CopyLanes lanes, Arena arenaToUse, Memory memory) {
        SplittableRandom r = new SplittableRandom(seed);
        KvLayout layout = r.nextBoolean()
                ? KvLayout.standard(1 + r.nextInt(3), 1 + r.nextInt(3), 1 + r.nextInt(9), KvDtype.values()[r.nextInt(5)])
                : KvLayout.mla(1 + r.nextInt(3), 1 + r.nextInt(20), KvDtype.values()[r.nextInt(5)]);
        int blockSize = 1 + r.nextInt(8);
        int blocks = 12;
        int n = 1 + r.nextInt(blocks * blockSize / 2);
        try (Arena arena = arenaToUse) {
            HostKvMemory kv = memory.make(arena, layout, blocks, blockSize);
            int[] all = SeededKv.identitySlots(blocks * blockSize);
            SeededKv.fill(kv, SeededKv.tokens(seed, all.length), all);
            // runs of consecutive slots broken by block jumps
            int[] slots = SeededKv.shuffledSlots(seed, n, kv.numSlots());
            for (int i = 1; i < n; i++) {
                if (r.nextInt(3) > 0 && slots[i - 1] + 1 < kv.numSlots() && !contains(slots, n, slots[i - 1] + 1)) {
                    slots[i] = slots[i - 1] + 1;
                }
            }
            MemorySegment chunk = arena.allocate(layout.chunkBytes(n));
            HostKvCopier.gather(kv, slots, 0, n, chunk, lanes);
            assertArrayEquals(referenceGather(kv, slots, n), chunk.toArray(ValueLayout.JAVA_BYTE));

            HostKvMemory target = memory.make(arena, layout, blocks, blockSize);
            int[] withHoles = slots.clone();
            withHoles[r.nextInt(n)] = -1;
            int writeFrom = r.nextInt(n);
            HostKvCopier.scatter(chunk, target, withHoles, 0, n, writeFrom, lanes);
            for (int i = 0; i < n; i++) {
                boolean written = i >= writeFrom && withHoles[i] >= 0;
                for (int layer = 0; layer < layout.numLayers(); layer++) {
                    for (int plane = 0; plane < layout.planes(); plane++) {
                        byte[] expected = written ? SeededKv.rowBytes(kv, layer, plane, slots[i]) : new byte[layout.rowBytes()];
                        assertArrayEquals(expected, SeededKv.rowBytes(target, layer, plane, slots[i]),
                                "token " + i + " layer " + layer + " plane " + plane);
                    }
                }
            }
        }
    }

    private static boolean contains(int[] a, int len, int v) {
        for (int i = 0; i < len; i++) {
            if (a[i] == v) {
                return true;
            }
        }
        return false;
    }

    /** {@code [plane][layer][token][row]} built one token at a time. */
    private static byte[] referenceGather(HostKvMemory kv, int[] slots, int n) {
        KvLayout l = kv.layout();
        var out = new java.io.ByteArrayOutputStream();
        for (int plane = 0; plane < l.planes(); plane++) {
            for (int layer = 0; layer < l.numLayers(); layer++) {
                for (int t = 0; t < n; t++) {
                    out.writeBytes(SeededKv.rowBytes(kv, layer, plane, slots[t]));
                }
            }
        }
        return out.toByteArray();
    }
}
