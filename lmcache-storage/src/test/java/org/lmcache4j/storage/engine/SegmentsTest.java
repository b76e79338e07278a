package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.KvSegment;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.SegmentMatch;
import org.lmcache4j.testing.SeededKv;

/**
 * Segments (CacheBlend's unit): KV stored from one prompt is found in another prompt at another position, byte
 * for byte, with the position it was computed at; a segment missing from the cache is a miss whatever surrounds
 * it; segment keys never meet prefix keys; bad segments are refused before engine memory is touched.
 */
class SegmentsTest {

    private static final int[] DOC_A = SeededKv.tokens(11, 40); // 16 + 16 + a partial chunk of 8
    private static final int[] DOC_B = SeededKv.tokens(12, 20);
    private static final int[] DOC_C = SeededKv.tokens(13, 9);

    /** A prompt's tokens and segments, and engine memory with KV in shuffled slots. */
    private record Prompt(int[] tokens, List<KvSegment> segments, HostKvMemory kv, int[] slots) {

        /** {@code parts}: token arrays; every odd one (1, 3, ...) is a segment, the others filler. */
        static Prompt of(Arena arena, long seed, boolean filled, int[]... parts) {
            int n = Arrays.stream(parts).mapToInt(p -> p.length).sum();
            int[] tokens = new int[n];
            List<KvSegment> segments = new java.util.ArrayList<>();
            int at = 0;
            for (int i = 0; i < parts.length; i++) {
                System.arraycopy(parts[i], 0, tokens, at, parts[i].length);
                if (i % 2 == 1) {
                    segments.add(new KvSegment(at, at + parts[i].length));
                }
                at += parts[i].length;
            }
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, 2 * n);
            int[] slots = SeededKv.shuffledSlots(seed, n, 2 * n);
            if (filled) {
                SeededKv.fill(kv, tokens, slots);
            }
            return new Prompt(tokens, List.copyOf(segments), kv, slots);
        }
    }

    private static int[] filler(long seed, int n) {
        return SeededKv.tokens(seed, n);
    }

    /** Fails unless each row of {@code to}'s tokens {@code [toStart, +n)} equals {@code from}'s {@code [fromStart, +n)}. */
    private static void assertSameRows(Prompt from, int fromStart, Prompt to, int toStart, int n) {
        for (int i = 0; i < n; i++) {
            for (int layer = 0; layer < SMALL.numLayers(); layer++) {
                for (int plane = 0; plane < 2; plane++) {
                    assertArrayEquals(SeededKv.rowBytes(from.kv, layer, plane, from.slots[fromStart + i]),
                            SeededKv.rowBytes(to.kv, layer, plane, to.slots[toStart + i]),
                            "token " + (toStart + i) + " layer " + layer + " plane " + plane);
                }
            }
        }
    }

    @Test
    void aSegmentIsRetrievedAtAnotherPositionWithThePositionItWasComputedAt() {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            Prompt first = Prompt.of(arena, 1, true, filler(21, 10), DOC_A, filler(22, 5), DOC_B);
            assertEquals(60, engine.storeSegments(first.tokens, first.segments, first.kv, first.slots));

            Prompt second = Prompt.of(arena, 2, false, filler(23, 3), DOC_B, filler(24, 7), DOC_A, filler(25, 4));
            List<SegmentMatch> found = engine.retrieveSegments(second.tokens, second.segments, second.kv, second.slots);

            assertEquals(List.of(new SegmentMatch(new KvSegment(3, 23), 20, 55), new SegmentMatch(new KvSegment(30, 70), 40, 10)), found);
            assertEquals(found, engine.lookupSegments(second.tokens, second.segments));
            assertSameRows(first, 55, second, 3, 20);
            assertSameRows(first, 10, second, 30, 40);
            assertTrue(SeededKv.isZero(second.kv, second.slots, 0, 3), "filler before the segments untouched");
            assertTrue(SeededKv.isZero(second.kv, second.slots, 23, 30), "filler between them untouched");
            assertTrue(SeededKv.isZero(second.kv, second.slots, 70, 74), "the question after them untouched");
            assertEquals(-52, found.get(0).shift());
            assertEquals(20, found.get(1).shift());
        }
    }

    @Test
    void aMissBetweenTwoHitsIsAMissAndItsMemoryIsUntouched() {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            Prompt first = Prompt.of(arena, 1, true, filler(21, 4), DOC_A, filler(22, 4), DOC_B);
            engine.storeSegments(first.tokens, first.segments, first.kv, first.slots);

            Prompt second = Prompt.of(arena, 2, false, filler(23, 2), DOC_A, filler(24, 2), DOC_C, filler(25, 2), DOC_B);
            List<SegmentMatch> found = engine.retrieveSegments(second.tokens, second.segments, second.kv, second.slots);

            assertEquals(40, found.get(0).cachedTokens());
            assertEquals(SegmentMatch.miss(new KvSegment(44, 53)), found.get(1));
            assertEquals(20, found.get(2).cachedTokens());
            assertTrue(SeededKv.isZero(second.kv, second.slots, 44, 53), "the missed segment's slots untouched");
            assertSameRows(first, 4, second, 2, 40);
            assertSameRows(first, 48, second, 55, 20);
        }
    }

    @Test
    void aSegmentCachedAtOnePositionIsNotStoredAgainAtAnother() {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            Prompt first = Prompt.of(arena, 1, true, filler(21, 6), DOC_B);
            Prompt second = Prompt.of(arena, 2, true, filler(22, 30), DOC_B);
            assertEquals(20, engine.storeSegments(first.tokens, first.segments, first.kv, first.slots));
            long chunks = engine.stats().storedChunks();

            assertEquals(0, engine.storeSegments(second.tokens, second.segments, second.kv, second.slots));
            assertEquals(chunks, engine.stats().storedChunks(), "nothing new stored");
            assertEquals(List.of(new SegmentMatch(new KvSegment(30, 50), 20, 6)), engine.lookupSegments(second.tokens, second.segments));
        }
    }

    @Test
    void segmentKeysNeverMeetPrefixKeys() {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            Prompt alone = Prompt.of(arena, 1, true, new int[0], DOC_A);
            engine.storeSegments(alone.tokens, alone.segments, alone.kv, alone.slots);
            assertEquals(0, engine.lookup(DOC_A), "a prompt of the segment's tokens is not a prefix hit");

            Prompt other = Prompt.of(arena, 2, true, new int[0], DOC_B);
            engine.store(other.tokens, other.kv, other.slots);
            assertEquals(List.of(SegmentMatch.miss(new KvSegment(0, 20))), engine.lookupSegments(other.tokens, other.segments),
                    "a stored prefix is not a segment hit");
        }
    }

    @Test
    void segmentsSurviveARestartOnTheDiskTier(@TempDir Path dir) {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES).build();
        try (Arena arena = Arena.ofShared()) {
            Prompt first = Prompt.of(arena, 1, true, filler(21, 7), DOC_A);
            try (TieredCacheEngine engine = Engines.open(config)) {
                engine.storeSegments(first.tokens, first.segments, first.kv, first.slots);
            }
            Prompt second = Prompt.of(arena, 2, false, DOC_C, DOC_A);
            try (TieredCacheEngine engine = Engines.open(config)) {
                assertEquals(List.of(new SegmentMatch(new KvSegment(9, 49), 40, 7)),
                        engine.retrieveSegments(second.tokens, second.segments, second.kv, second.slots));
            }
            assertSameRows(first, 7, second, 9, 40);
        }
    }

    @Test
    void badSegmentsAreRefusedBeforeAnythingIsWritten() {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            Prompt first = Prompt.of(arena, 1, true, filler(21, 4), DOC_A, filler(22, 4), DOC_B);
            engine.storeSegments(first.tokens, first.segments, first.kv, first.slots);
            Prompt target = Prompt.of(arena, 2, false, filler(21, 4), DOC_A, filler(22, 4), DOC_B);

            List<List<KvSegment>> bad = List.of(
                    List.of(new KvSegment(4, 44), new KvSegment(40, 68)),  // overlapping
                    List.of(new KvSegment(48, 68), new KvSegment(4, 44)),  // out of order
                    List.of(new KvSegment(4, 44), new KvSegment(48, 69))); // past the prompt
            for (List<KvSegment> segments : bad) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> engine.retrieveSegments(target.tokens, segments, target.kv, target.slots));
                assertTrue(e.getMessage().startsWith("segments[1]: "), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> engine.storeSegments(target.tokens, segments, first.kv, first.slots));
                assertThrows(IllegalArgumentException.class, () -> engine.lookupSegments(target.tokens, segments));
            }
            assertThrows(IllegalArgumentException.class, () -> engine.retrieveSegments(target.tokens, null, target.kv, target.slots));
            HostKvMemory otherLayout = SeededKv.contiguous(arena, KvLayout.standard(2, 2, 8, KvDtype.BF16), 2 * target.tokens.length);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> engine.retrieveSegments(target.tokens, target.segments, otherLayout, target.slots));
            assertTrue(e.getMessage().contains("layout"), e.getMessage());
            assertTrue(SeededKv.isZero(otherLayout, target.slots, 0, target.tokens.length), "memory of another layout untouched");
            assertThrows(IllegalArgumentException.class, () -> new KvSegment(5, 5));
            assertTrue(SeededKv.isZero(target.kv, target.slots, 0, target.tokens.length), "engine memory untouched");
        }
    }
}
