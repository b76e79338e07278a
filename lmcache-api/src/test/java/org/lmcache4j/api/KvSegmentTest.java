package org.lmcache4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Segments: made from explicit offsets or a separator, checked before a connector touches memory. */
class KvSegmentTest {

    private static final int[] SEP = {7, 7};

    @Test
    void aSeparatorSplitsThePromptAndTheTailAfterTheLastOneIsNotASegment() {
        int[] prompt = {1, 2, 7, 7, 3, 4, 5, 7, 7, 7, 7, 6, 7, 7, 9, 9};
        // [1 2] SEP [3 4 5] SEP SEP(empty span) [6] SEP question [9 9]
        assertEquals(List.of(new KvSegment(0, 2), new KvSegment(4, 7), new KvSegment(11, 12)), KvSegment.between(prompt, SEP));
        assertEquals(List.of(), KvSegment.between(new int[] {1, 2, 3}, SEP), "no separator: all of it is new");
        assertEquals(List.of(new KvSegment(0, 1)), KvSegment.between(new int[] {1, 7, 7, 7}, SEP), "occurrences do not overlap");
        assertThrows(IllegalArgumentException.class, () -> KvSegment.between(prompt, new int[0]));
        assertThrows(IllegalArgumentException.class, () -> KvSegment.between(null, SEP));
    }

    @Test
    void badSegmentsAreNamedWithTheirIndexAndWhatWasExpected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvSegment.requireWellFormed(List.of(new KvSegment(0, 5), new KvSegment(4, 8)), 10));
        assertEquals("segments[1]: [4, 8) overlaps or precedes segments[0], which ends at 5 (expected: segments in prompt order,"
                + " not overlapping)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KvSegment.requireWellFormed(List.of(new KvSegment(0, 11)), 10));
        assertTrue(e.getMessage().startsWith("segments[0]: [0, 11) ends after the prompt's 10 tokens"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new KvSegment(-1, 3));
        assertThrows(IllegalArgumentException.class, () -> new KvSegment(3, 3));
        KvSegment.requireWellFormed(List.of(new KvSegment(0, 5), new KvSegment(5, 10)), 10); // adjacent is fine
    }

    @Test
    void aMatchSaysHowFarItsKvMoves() {
        SegmentMatch m = new SegmentMatch(new KvSegment(100, 200), 64, 30);
        assertEquals(70, m.shift());
        assertEquals(0, SegmentMatch.miss(new KvSegment(1, 2)).shift());
        assertThrows(IllegalArgumentException.class, () -> new SegmentMatch(new KvSegment(0, 10), 11, 0));
        assertThrows(IllegalArgumentException.class, () -> new SegmentMatch(new KvSegment(0, 10), 0, 5));
        assertThrows(IllegalArgumentException.class, () -> new SegmentMatch(new KvSegment(0, 10), 3, -1));
    }
}
