package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.testing.ReferenceChunkFrames;
import org.lmcache4j.testing.ThreadAllocation;

/** The remote value format: round trips for every part layout, compression, and every kind of damage caught. */
class RemoteChunkFormatTest {

    private static final String FP = "d4f6e32487754f6c";
    private static final int PART = 4096;
    private static final String WHERE = "remote tier test: chunk";

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {0, 1, PART - 1, PART, PART + 1, 3 * PART + PART / 2})
    void roundTripsEveryPartLayout(int size) throws Exception {
        for (boolean lz4 : new boolean[] {false, true}) {
            RemoteChunkFormat f = new RemoteChunkFormat(FP, PART, lz4);
            byte[] content = payload(size, size);
            RemoteChunkFormat.Encoded e = f.encode(key(1), MemorySegment.ofArray(content), 42);
            assertEquals((size + PART - 1) / PART, e.parts().length, "parts");
            RemoteChunkFormat.Header h = f.decode(e.header(), key(1), WHERE);
            assertEquals(42, h.writeId());
            assertEquals(size, h.payloadBytes());
            assertEquals(lz4 ? RemoteChunkFormat.CODEC_LZ4 : RemoteChunkFormat.CODEC_NONE, h.codec());
            assertArrayEquals(content, assemble(f, h, e.parts(), size));
        }
    }

    @Test
    void lz4ShrinksCompressiblePartsAndKeepsIncompressibleOnesAsTheyAre() throws Exception {
        RemoteChunkFormat f = new RemoteChunkFormat(FP, PART, true);
        byte[] content = new byte[4 * PART];
        byte[] noise = payload(7, PART);
        System.arraycopy(noise, 0, content, PART, PART); // part 1 random, the others zeros
        RemoteChunkFormat.Encoded e = f.encode(key(1), MemorySegment.ofArray(content), 1);
        RemoteChunkFormat.Header h = f.decode(e.header(), key(1), WHERE);
        assertTrue(h.storedBytes()[0] < PART / 10, "zeros shrink: " + h.storedBytes()[0]);
        assertEquals(PART, h.storedBytes()[1], "random bytes are stored as they are");
        assertEquals(Arrays.stream(h.storedBytes()).sum(), e.storedBytes());
        assertArrayEquals(content, assemble(f, h, e.parts(), content.length));
    }

    @Test
    void everyFlippedHeaderByteIsCaught() {
        RemoteChunkFormat f = new RemoteChunkFormat(FP, PART, false);
        byte[] header = f.encode(key(1), MemorySegment.ofArray(payload(1, 3 * PART)), 9).header();
        for (int i = 0; i < header.length; i++) {
            byte[] bad = header.clone();
            bad[i] ^= 0x10;
            int at = i;
            assertThrows(CorruptChunkException.class, () -> f.decode(bad, key(1), WHERE), () -> "flipped header byte " + at);
        }
        assertThrows(CorruptChunkException.class, () -> f.decode(Arrays.copyOf(header, header.length - 1), key(1), WHERE));
        assertThrows(CorruptChunkException.class, () -> f.decode(Arrays.copyOf(header, 20), key(1), WHERE));
        assertThrows(CorruptChunkException.class, () -> f.decode(new byte[0], key(1), WHERE));
    }

    @Test
    void headerOfAnotherKeyOrLayoutIsCaught() {
        RemoteChunkFormat f = new RemoteChunkFormat(FP, PART, false);
        byte[] header = f.encode(key(1), MemorySegment.ofArray(payload(1, PART)), 9).header();
        CorruptChunkException other = assertThrows(CorruptChunkException.class, () -> f.decode(header, key(2), WHERE));
        assertTrue(other.getMessage().startsWith(WHERE + ": header of key " + key(1)), other.getMessage());
        RemoteChunkFormat otherLayout = new RemoteChunkFormat("0000000000000000", PART, false);
        CorruptChunkException foreign = assertThrows(CorruptChunkException.class, () -> otherLayout.decode(header, key(1), WHERE));
        assertTrue(foreign.getMessage().contains("written for another KV layout"), foreign.getMessage());
    }

    @Test
    void damagedPartsAreCaught() throws Exception {
        for (boolean lz4 : new boolean[] {false, true}) {
            RemoteChunkFormat f = new RemoteChunkFormat(FP, PART, lz4);
            byte[] content = new byte[2 * PART + 10];
            System.arraycopy(payload(3, PART), 0, content, 0, PART); // part 0 random, part 1 compressible
            RemoteChunkFormat.Encoded e = f.encode(key(1), MemorySegment.ofArray(content), 9);
            RemoteChunkFormat.Header h = f.decode(e.header(), key(1), WHERE);
            for (int p = 0; p < e.parts().length; p++) {
                byte[][] flipped = copy(e.parts());
                flipped[p][flipped[p].length / 2] ^= 1;
                assertCorrupt(f, h, flipped, content.length, lz4 ? "" : "payload checksum mismatch");
                byte[][] shorter = copy(e.parts());
                shorter[p] = Arrays.copyOf(shorter[p], shorter[p].length - 1);
                assertCorrupt(f, h, shorter, content.length, "part " + p + " has ");
            }
        }
    }

    @Test
    void partsFarLargerThanTheChunkCostNoScratchOfTheirSize() throws Exception {
        // regression (found by RemoteChunkDecoderPropertyTest): encode and assemble sized their LZ4 scratch by the
        // part size, not by the payload, so with partBytes=512m every small chunk cost a 512 MiB array on put and
        // on get, and a valid header announcing parts of 2 GiB failed with OutOfMemoryError instead of decoding
        byte[] content = payload(5, 1000);
        Arrays.fill(content, 200, 1000, (byte) 7);
        RemoteChunkFormat large = new RemoteChunkFormat(FP, RemoteUrl.MAX_PART_BYTES, true);
        long before = ThreadAllocation.bytes();
        RemoteChunkFormat.Encoded e = large.encode(key(1), MemorySegment.ofArray(content), 3);
        long allocated = ThreadAllocation.bytes() - before;
        assertTrue(allocated < 16 << 20, "encode of 1000 bytes allocated " + allocated);
        byte[] chunkHeader = Arrays.copyOf(e.header(), ReferenceChunkFrames.intAt(e.header(), 12));
        byte[] table = ReferenceChunkFrames.partTable(RemoteChunkFormat.CODEC_LZ4, 3, Integer.MAX_VALUE,
                new int[] {e.parts()[0].length});
        byte[] header = Arrays.copyOf(chunkHeader, chunkHeader.length + table.length);
        System.arraycopy(table, 0, header, chunkHeader.length, table.length);
        RemoteChunkFormat f = new RemoteChunkFormat(FP, PART, false);
        RemoteChunkFormat.Header h = f.decode(header, key(1), WHERE);
        assertTrue(h.storedBytes()[0] < content.length, "the part is compressed");
        assertArrayEquals(content, assemble(f, h, e.parts(), content.length), "a valid encoding, whatever its part size");
    }

    @Test
    void theMostCompressiblePartIsWithinLz4sExpansionBound() throws Exception {
        // zeros compress the most (close to 255:1); decode refuses parts claiming more than that
        int size = 8 << 20;
        RemoteChunkFormat f = new RemoteChunkFormat(FP, size, true);
        RemoteChunkFormat.Encoded e = f.encode(key(1), MemorySegment.ofArray(new byte[size]), 3);
        RemoteChunkFormat.Header h = f.decode(e.header(), key(1), WHERE);
        assertTrue((long) RemoteChunkFormat.LZ4_MAX_EXPANSION * h.storedBytes()[0] >= size, "stored " + h.storedBytes()[0]);
        assertArrayEquals(new byte[size], assemble(f, h, e.parts(), size));
    }

    private static void assertCorrupt(RemoteChunkFormat f, RemoteChunkFormat.Header h, byte[][] parts, int size, String message) {
        CorruptChunkException e = assertThrows(CorruptChunkException.class, () -> assemble(f, h, parts, size));
        assertTrue(e.getMessage().startsWith(WHERE + ": " + message), e.getMessage());
    }

    private static byte[][] copy(byte[][] parts) {
        return Arrays.stream(parts).map(byte[]::clone).toArray(byte[][]::new);
    }

    private static byte[] assemble(RemoteChunkFormat f, RemoteChunkFormat.Header h, byte[][] parts, int size)
            throws CorruptChunkException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(Math.max(1, size)).asSlice(0, size);
            f.assemble(h, parts, dst, WHERE);
            return dst.toArray(ValueLayout.JAVA_BYTE);
        }
    }
}
