package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

/** Launch parameters: access width, grid shape, and the limits a launch is checked against. */
class KvCopyArgsTest {

    private static KvShape shape(long... layerAddresses) {
        KvLayout layout = KvLayout.standard(layerAddresses.length, 8, 128, KvDtype.BF16); // 2 KiB rows
        return KvShape.of(new DeviceKvMemory(layout, DeviceKvFormat.FLASH_INFER, 0, layerAddresses, 100, 16));
    }

    @Test
    void accessWidthIsTheWidestThatDividesRowsPointersAndStrides() {
        KvShape aligned = shape(0x10000, 0x20000);
        assertEquals(16, aligned.vectorBytes(0x7000, 2048));
        assertEquals(8, aligned.vectorBytes(0x7008));
        assertEquals(4, aligned.vectorBytes(0x7004));
        assertEquals(1, aligned.vectorBytes(0x7002)); // no 2-byte path: 1
        assertEquals(4, shape(0x10000, 0x20004).vectorBytes(0x7000), "one misaligned layer narrows every access");
    }

    @Test
    void wholeChunkArgsDescribeTheChunkLayout() {
        KvShape s = shape(0x10000, 0x20000, 0x30000);
        KvCopyArgs a = s.wholeChunk(new DevicePtr(0x1000), new DevicePtr(0x2000), new DevicePtr(0x100000), 256);
        assertEquals(256L * 2048, a.chunkLayerStride());
        assertEquals(3L * 256 * 2048, a.chunkPlaneStride());
        assertEquals(KvCopyArgs.FORMAT_FLASH_INFER, a.format());
        assertEquals(16, a.vectorBytes());
        assertEquals(6, a.gridY());
        assertEquals(256 * 2048 / 16 / KvCopyArgs.BLOCK_THREADS, a.gridX()); // one 16-byte vector per thread
        assertEquals(s.chunkBytes(256), 2L * 3 * 256 * 2048);
    }

    @Test
    void theGridIsCappedAndTheLoopCoversTheRest() {
        KvCopyArgs a = new KvCopyArgs(0, 0, 0, 0, 0, 1, 1_000_000, 1, KvCopyArgs.FORMAT_MLA, 1, 1_000_000, 1000, 8);
        assertEquals(KvCopyArgs.MAX_GRID_X, a.gridX());
        assertEquals(1, new KvCopyArgs(0, 0, 0, 0, 0, 1, 1, 1, KvCopyArgs.FORMAT_MLA, 1, 1, 1, 1).gridX());
    }

    @Test
    void launchesBeyondTheKernelsLimitsAreRejected() {
        IllegalArgumentException rows = assertThrows(IllegalArgumentException.class,
                () -> new KvCopyArgs(0, 0, 0, 0, 0, 1, 1 << 20, 1, KvCopyArgs.FORMAT_MLA, 1, 16, 4096, 16));
        assertEquals("rows of one launch: 1048576 tokens x 4096 bytes (expected: below 2 GiB per plane and layer; "
                + "the kernel's index is 32-bit)", rows.getMessage());
        IllegalArgumentException grid = assertThrows(IllegalArgumentException.class,
                () -> new KvCopyArgs(0, 0, 0, 0, 0, 40_000, 1, 2, KvCopyArgs.FORMAT_VLLM, 1, 16, 16, 16));
        assertEquals("planes x layers: 2 x 40000 (expected: at most 65535, CUDA's grid y limit)", grid.getMessage());
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> new KvCopyArgs(0, 0, 8, 0, 0, 1, 1, 2, KvCopyArgs.FORMAT_VLLM, 1, 16, 32, 16));
        assertEquals("vectorBytes: 16 (expected: 16, 8, 4 or 1, dividing row bytes 32, the chunk address and its strides)",
                width.getMessage());
    }
}
