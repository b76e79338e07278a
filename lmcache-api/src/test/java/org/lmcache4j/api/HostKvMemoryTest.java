package org.lmcache4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class HostKvMemoryTest {

    /** 2 layers, 2 KV heads of 4, FP16: 16 bytes per row. */
    private static final KvLayout STANDARD = KvLayout.standard(2, 2, 4, KvDtype.FP16);
    /** 2 layers, 8-element latent, FP16: 16 bytes per row. */
    private static final KvLayout MLA = KvLayout.mla(2, 8, KvDtype.FP16);

    private static MemorySegment seg(long bytes) {
        return MemorySegment.ofArray(new byte[Math.toIntExact(bytes)]);
    }

    private static List<MemorySegment> segs(long... bytes) {
        return Arrays.stream(bytes).mapToObj(HostKvMemoryTest::seg).toList();
    }

    private static void assertRejected(String message, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(message, e.getMessage());
    }

    @Test
    void contiguousSlotsAreWhatTheSmallestSegmentHolds() {
        List<MemorySegment> keys = segs(160, 160);
        List<MemorySegment> values = segs(160, 150);
        HostKvMemory kv = HostKvMemory.contiguous(STANDARD, keys, values);
        assertEquals(9, kv.numSlots()); // 150 / 16
        assertEquals(1, kv.blockSize());
        assertSame(STANDARD, kv.layout());
        assertSame(keys.get(0), kv.plane(0, 0));
        assertSame(values.get(0), kv.plane(0, 1));
        assertSame(keys.get(1), kv.plane(1, 0));
        assertSame(values.get(1), kv.plane(1, 1));
        assertTrue(kv.writable());
    }

    @Test
    void contiguousWithNativeSegments() {
        try (Arena arena = Arena.ofConfined()) {
            List<MemorySegment> keys = List.of(arena.allocate(1024), arena.allocate(1024));
            List<MemorySegment> values = List.of(arena.allocate(1024), arena.allocate(1024));
            HostKvMemory kv = HostKvMemory.contiguous(STANDARD, keys, values);
            assertEquals(64, kv.numSlots());
            assertTrue(kv.writable());
        }
    }

    @Test
    void contiguousSegmentSmallerThanARowHoldsNoSlots() {
        assertEquals(0, HostKvMemory.contiguous(STANDARD, segs(15, 160), segs(160, 160)).numSlots());
    }

    @Test
    void pagedSlotsAreBlocksTimesBlockSize() {
        HostKvMemory kv = HostKvMemory.paged(STANDARD, 3, 4, segs(192, 200), segs(192, 192));
        assertEquals(12, kv.numSlots());
        assertEquals(4, kv.blockSize());
        assertEquals(200, kv.plane(1, 0).byteSize());
    }

    @Test
    void pagedWithZeroBlocksIsEmpty() {
        assertEquals(0, HostKvMemory.paged(STANDARD, 0, 16, segs(0, 0), segs(0, 0)).numSlots());
    }

    @Test
    void mlaHasOnePlanePerLayer() {
        List<MemorySegment> latents = segs(80, 96);
        HostKvMemory kv = HostKvMemory.mla(MLA, 5, 1, latents);
        assertEquals(5, kv.numSlots());
        assertEquals(1, kv.blockSize());
        assertSame(latents.get(0), kv.plane(0, 0));
        assertSame(latents.get(1), kv.plane(1, 0));
        assertTrue(kv.writable());
    }

    @Test
    void wrongNumberOfLayersRejected() {
        assertRejected("keys: 1 segments (expected: 2, one per layer)",
                () -> HostKvMemory.contiguous(STANDARD, segs(160), segs(160, 160)));
        assertRejected("values: 3 segments (expected: 2, one per layer)",
                () -> HostKvMemory.contiguous(STANDARD, segs(160, 160), segs(160, 160, 160)));
        assertRejected("keys: 3 segments (expected: 2, one per layer)",
                () -> HostKvMemory.paged(STANDARD, 1, 1, segs(16, 16, 16), segs(16, 16)));
        assertRejected("keys: 1 segments (expected: 2, one per layer)",
                () -> HostKvMemory.mla(MLA, 1, 1, segs(16)));
    }

    @Test
    void tooSmallSegmentRejected() {
        assertRejected("values[1]: 191 bytes (expected: at least 192 for the declared slots)",
                () -> HostKvMemory.paged(STANDARD, 3, 4, segs(192, 192), segs(192, 191)));
        assertRejected("keys[0]: 79 bytes (expected: at least 80 for the declared slots)",
                () -> HostKvMemory.mla(MLA, 5, 1, segs(79, 80)));
    }

    @Test
    void nullListsRejected() {
        assertRejected("keys: null (expected: 2, one per layer)",
                () -> HostKvMemory.contiguous(STANDARD, null, segs(16, 16)));
        assertRejected("values: null (expected: 2, one per layer)",
                () -> HostKvMemory.paged(STANDARD, 1, 1, segs(16, 16), null));
        assertRejected("keys: null (expected: 2, one per layer)",
                () -> HostKvMemory.mla(MLA, 1, 1, null));
    }

    @Test
    void nullSegmentRejected() {
        List<MemorySegment> withNull = new ArrayList<>(segs(16, 16));
        withNull.set(1, null);
        assertRejected("values[1]: null (expected: a memory segment)",
                () -> HostKvMemory.paged(STANDARD, 1, 1, segs(16, 16), withNull));
        assertRejected("keys[1]: null (expected: a memory segment)",
                () -> HostKvMemory.contiguous(STANDARD, withNull, segs(16, 16)));
        assertRejected("values[1]: null (expected: a memory segment)",
                () -> HostKvMemory.contiguous(STANDARD, segs(16, 16), withNull));
        assertRejected("keys[1]: null (expected: a memory segment)",
                () -> HostKvMemory.mla(MLA, 1, 1, withNull));
    }

    @Test
    void nullLayoutRejected() {
        String message = "layout: null (expected: the engine's KvLayout)";
        assertRejected(message, () -> HostKvMemory.contiguous(null, segs(16), segs(16)));
        assertRejected(message, () -> HostKvMemory.paged(null, 1, 1, segs(16), segs(16)));
        assertRejected(message, () -> HostKvMemory.mla(null, 1, 1, segs(16)));
    }

    @Test
    void layoutKindMustMatchTheFactory() {
        IllegalArgumentException notMla = assertThrows(IllegalArgumentException.class,
                () -> HostKvMemory.mla(STANDARD, 1, 1, segs(16, 16)));
        assertTrue(notMla.getMessage().endsWith("(expected: an MLA layout)"), notMla.getMessage());
        IllegalArgumentException contiguousMla = assertThrows(IllegalArgumentException.class,
                () -> HostKvMemory.contiguous(MLA, segs(16, 16), segs(16, 16)));
        assertTrue(contiguousMla.getMessage().startsWith("layout: " + MLA), contiguousMla.getMessage());
        assertTrue(contiguousMla.getMessage().contains("HostKvMemory.mla"), contiguousMla.getMessage());
        IllegalArgumentException pagedMla = assertThrows(IllegalArgumentException.class,
                () -> HostKvMemory.paged(MLA, 1, 1, segs(16, 16), segs(16, 16)));
        assertTrue(pagedMla.getMessage().contains("HostKvMemory.mla"), pagedMla.getMessage());
    }

    @Test
    void badBlockGeometryRejected() {
        assertRejected("numBlocks: -1, blockSize: 16 (expected: numBlocks >= 0, blockSize > 0, numBlocks * blockSize < 2^31)",
                () -> HostKvMemory.paged(STANDARD, -1, 16, segs(0, 0), segs(0, 0)));
        assertRejected("numBlocks: 4, blockSize: 0 (expected: numBlocks >= 0, blockSize > 0, numBlocks * blockSize < 2^31)",
                () -> HostKvMemory.paged(STANDARD, 4, 0, segs(0, 0), segs(0, 0)));
        assertRejected("numBlocks: 65536, blockSize: 32768 (expected: numBlocks >= 0, blockSize > 0, numBlocks * blockSize < 2^31)",
                () -> HostKvMemory.paged(STANDARD, 1 << 16, 1 << 15, segs(0, 0), segs(0, 0)));
        assertRejected("blockSize: 0, numSlots: 4 (expected: blockSize > 0, numSlots >= 0)",
                () -> HostKvMemory.mla(MLA, 4, 0, segs(64, 64)));
        assertRejected("blockSize: 1, numSlots: -1 (expected: blockSize > 0, numSlots >= 0)",
                () -> HostKvMemory.mla(MLA, -1, 1, segs(64, 64)));
    }

    @Test
    void readOnlySegmentMakesTheMemoryNotWritable() {
        List<MemorySegment> values = new ArrayList<>(segs(160, 160));
        values.set(1, values.get(1).asReadOnly());
        assertFalse(HostKvMemory.contiguous(STANDARD, segs(160, 160), values).writable());
        assertFalse(HostKvMemory.mla(MLA, 1, 1, List.of(seg(16).asReadOnly(), seg(16))).writable());
        assertTrue(HostKvMemory.mla(MLA, 1, 1, segs(16, 16)).writable());
    }

    @Test
    void blocksAddressEachSlotInItsOwnBlocksSegment() {
        MemorySegment[][] blocks = new MemorySegment[4][3]; // [layer * 2 + plane][block], 4 rows of 16 bytes each
        for (MemorySegment[] row : blocks) {
            Arrays.setAll(row, b -> seg(64));
        }
        HostKvMemory kv = HostKvMemory.blocks(STANDARD, 3, 4, (layer, plane, block) -> blocks[layer * 2 + plane][block]);
        assertEquals(12, kv.numSlots());
        assertEquals(4, kv.blockSize());
        assertEquals(3, kv.segmentsPerPlane());
        assertSame(blocks[3][1], kv.segmentOf(1, 1, 6));
        assertEquals(2 * 16, kv.offsetOf(6));
        assertEquals(2, kv.rowsInSegmentFrom(6));
        assertSame(blocks[2][2], kv.segment(1, 0, 2));
        assertTrue(kv.writable());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> kv.plane(0, 0));
        assertTrue(e.getMessage().contains("segmentOf"), e.getMessage());
    }

    @Test
    void singleSegmentMemoryIsOneRunOfRows() {
        HostKvMemory kv = HostKvMemory.paged(STANDARD, 3, 4, segs(192, 192), segs(192, 192));
        assertEquals(1, kv.segmentsPerPlane());
        assertSame(kv.plane(1, 1), kv.segmentOf(1, 1, 11));
        assertEquals(11 * 16, kv.offsetOf(11));
        assertEquals(1, kv.rowsInSegmentFrom(11));
        assertEquals(12, kv.rowsInSegmentFrom(0));
    }

    @Test
    void badBlocksRejectedNamingTheBlock() {
        assertRejected("block 1 of layer 0 plane 1: 63 bytes (expected: at least 64 for 4 rows of 16 bytes)",
                () -> HostKvMemory.blocks(STANDARD, 2, 4, (layer, plane, block) -> seg(plane == 1 && block == 1 ? 63 : 64)));
        assertRejected("block 0 of layer 1 plane 0: null (expected: a memory segment)",
                () -> HostKvMemory.blocks(MLA, 1, 4, (layer, plane, block) -> layer == 1 ? null : seg(64)));
        assertRejected("blocks: null (expected: the segment of each layer, plane and block)",
                () -> HostKvMemory.blocks(STANDARD, 1, 4, null));
        assertRejected("numBlocks: -1, blockSize: 4 (expected: numBlocks >= 0, blockSize > 0, numBlocks * blockSize < 2^31)",
                () -> HostKvMemory.blocks(STANDARD, -1, 4, (layer, plane, block) -> seg(64)));
    }

    @Test
    void indicesOutOfRangeAreRefusedNotAliased() {
        HostKvMemory kv = HostKvMemory.paged(STANDARD, 3, 4, segs(192, 192), segs(192, 192));
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> kv.segmentOf(0, 0, 12));
        assertEquals("slot: 12 (expected: 0 to 11 in engine KV memory of 2 layers, 2 planes, 12 slots)", e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> kv.offsetOf(-1));
        assertThrows(IndexOutOfBoundsException.class, () -> kv.segmentOf(0, 2, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> kv.segment(2, 0, 0));
        HostKvMemory blocks = HostKvMemory.blocks(STANDARD, 2, 4, (layer, plane, block) -> seg(64));
        assertThrows(IndexOutOfBoundsException.class, () -> blocks.segment(0, 0, 2));
        assertEquals(3, blocks.rowsInSegmentFrom(5));
    }

    @Test
    void sharedAcrossThreadsOnlyWhenNoSegmentIsConfined() {
        try (Arena confined = Arena.ofConfined()) {
            HostKvMemory kv = HostKvMemory.blocks(STANDARD, 2, 1,
                    (layer, plane, block) -> block == 1 ? confined.allocate(16) : seg(16));
            assertFalse(kv.sharedAcrossThreads());
        }
        assertTrue(HostKvMemory.blocks(STANDARD, 2, 1, (layer, plane, block) -> seg(16)).sharedAcrossThreads());
    }

    @Test
    void aReadOnlyBlockMakesBlockMemoryNotWritable() {
        HostKvMemory kv = HostKvMemory.blocks(STANDARD, 2, 1,
                (layer, plane, block) -> block == 1 && layer == 1 ? seg(16).asReadOnly() : seg(16));
        assertFalse(kv.writable());
    }
}
