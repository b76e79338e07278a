package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.testing.FrameMutations.Field;
import org.lmcache4j.testing.FrameMutations.Mutated;
import org.lmcache4j.testing.ReferenceChunkFrames.ChunkHeader;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.storage.tier.HeldChunkBuffer;
import org.lmcache4j.testing.FrameMutations;
import org.lmcache4j.testing.PropertyCheck;
import org.lmcache4j.testing.PropertyCheck.Gen;
import org.lmcache4j.testing.ReferenceChunkFrames;
import org.lmcache4j.testing.ThreadAllocation;

/**
 * The disk tier's chunk file decoder on valid, damaged and random files: every read path accepts exactly
 * the files that {@link ReferenceChunkFrames} calls valid encodings of the asked key (and then returns
 * exactly their payload), fails on every other file with {@link CorruptChunkException} and nothing else
 * (IllegalArgumentException only where documented: a target too small), and allocates no more than the
 * header before a length field is checked against the file.
 */
class DiskChunkDecoderPropertyTest {

    private static final String FP = "d4f6e32487754f6c";
    private static final byte[] FP_BYTES = HexFormat.of().parseHex(FP);
    /** Heap a header check may allocate (buffers of at most 180 bytes, the exception and its stack trace). */
    private static final long HEADER_ALLOCATION_BOUND = 256 << 10;

    @TempDir
    Path dir;

    @Test
    void chunkFilesDecodeExactlyWhenTheyAreValidEncodingsOfTheAskedKey() throws Exception {
        DiskChunkFormat format = new DiskChunkFormat(FP);
        DiskChunkFiles files = new DiskChunkFiles(dir, format, FileSystemDiskIo.INSTANCE, false);
        loadTheClassesOnce(format, files);
        PropertyCheck.forAll("disk chunk files: the payload of a valid file, else CorruptChunkException", 250, gen -> {
            ChunkKey key = key(gen.between(0, 2));
            ChunkKey asked = gen.chance(0.85) ? key : key(gen.between(0, 2));
            byte[] payload = gen.chance(0.03) ? gen.bytes(gen.between(256 << 10, 600 << 10)) : gen.bytes(gen.size(2000));
            byte[] valid = validFile(gen, files, key, payload);
            Mutated m = FrameMutations.mutate(gen, valid, FrameMutations.chunkHeaderFields(valid), 0, ReferenceChunkFrames.intAt(valid, 12));
            byte[] file = m.bytes();
            Path path = files.pathOf(asked);
            Files.createDirectories(path.getParent());
            Files.write(path, file);

            // the reference verdicts: a disk file is version 3 (or 2, before codecs), its payload at 4096; in memory a
            // header is version 2 (or 1)
            int at = ReferenceChunkFrames.FILE_PAYLOAD_OFFSET;
            ChunkHeader h = ReferenceChunkFrames.decodeFileHeader(file);
            boolean headerOk = h != null && java.util.Arrays.equals(h.fingerprint(), FP_BYTES);
            boolean lengthOk = headerOk && file.length - at == h.payloadBytes();
            boolean keyOk = headerOk && java.util.Arrays.equals(h.key(), asked.toBytes());
            // chunks here are stored raw: a header naming a codec cannot be decoded by a tier opened without a layout
            boolean valid2 = lengthOk && keyOk && h.codecId() == 0
                    && ReferenceChunkFrames.crc32c(file, at, file.length - at) == h.payloadCrc();
            ChunkHeader inMemory = ReferenceChunkFrames.decodeChunkHeader(file);
            boolean inMemoryOk = inMemory != null && java.util.Arrays.equals(inMemory.fingerprint(), FP_BYTES);
            String what = m.what() + " (" + file.length + " bytes)";

            // the header of the file, in a buffer after other bytes
            int before = gen.between(0, 8);
            ByteBuffer buf = ByteBuffer.allocate(before + file.length).position(before);
            buf.put(file).position(before);
            long allocated = ThreadAllocation.bytes();
            try {
                DiskChunkFormat.Header got = format.decodeHeader(buf, "test");
                assertTrue(inMemoryOk, "decodeHeader accepted: " + what);
                assertEquals(before + inMemory.headerBytes(), buf.position(), "position after the header");
                assertHeader(inMemory, got);
            } catch (CorruptChunkException e) {
                assertTrue(!inMemoryOk, "decodeHeader refused a valid header: " + what + ": " + e.getMessage());
            }
            assertTrue(ThreadAllocation.bytes() - allocated < HEADER_ALLOCATION_BOUND, "decodeHeader allocated too much: " + what);

            // the header of the file found on disk: must name the key of its path and fit the file's length
            allocated = ThreadAllocation.bytes();
            try {
                DiskChunkFormat.Header got = files.readHeader(path);
                assertTrue(lengthOk && keyOk, "readHeader accepted: " + what);
                assertHeader(h, got);
                assertEquals(file.length, got.fileBytes());
            } catch (CorruptChunkException e) {
                assertTrue(!(lengthOk && keyOk), "readHeader refused a valid file: " + what + ": " + e.getMessage());
            }
            assertTrue(ThreadAllocation.bytes() - allocated < HEADER_ALLOCATION_BOUND, "readHeader allocated too much: " + what);

            // the whole chunk
            int[] closes = {0};
            try (HeldChunkBuffer b = files.read(asked, () -> closes[0]++)) {
                assertTrue(valid2, "read accepted: " + what);
                assertAcceptedIsAnEncodingOf(key, payload, file, h);
                assertArrayEquals(payload, b.segment().toArray(ValueLayout.JAVA_BYTE), what);
            } catch (CorruptChunkException e) {
                assertTrue(!valid2, "read refused a valid file: " + what + ": " + e.getMessage());
            }
            assertEquals(valid2 ? 1 : 0, closes[0], "a buffer ends its hold once when closed; a failed read leaves it to the caller");

            // the whole chunk into a target of the caller's
            long targetBytes = Math.max(0, payload.length + gen.between(-2, 2));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment target = arena.allocate(Math.max(1, targetBytes)).asSlice(0, targetBytes);
                boolean tooSmall = lengthOk && keyOk && h.logicalBytes() > targetBytes;
                try {
                    long n = files.readInto(asked, target);
                    assertTrue(valid2 && !tooSmall, "readInto accepted: " + what);
                    assertArrayEquals(payload, target.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), what);
                } catch (CorruptChunkException e) {
                    assertTrue(!valid2 && !tooSmall, "readInto: " + what + ": " + e.getMessage());
                } catch (IllegalArgumentException e) {
                    assertTrue(tooSmall, "readInto: " + what + ": " + e.getMessage());
                }
            }
            Files.delete(path);
        });
    }

    @Test
    void aHeaderClaimingATebibyteFailsFastWithoutAllocatingIt() throws Exception {
        DiskChunkFormat format = new DiskChunkFormat(FP);
        DiskChunkFiles files = new DiskChunkFiles(dir, format, FileSystemDiskIo.INSTANCE, false);
        ChunkKey key = key(1);
        byte[] header = ReferenceChunkFrames.chunkHeader(FP_BYTES, key.toBytes(), new byte[0], 0, 1L << 40, 0);
        byte[] fileHeader = ReferenceChunkFrames.rawHeader(2, FP_BYTES, key.toBytes(), new byte[0], 0, 1L << 40, 0);
        Path path = files.pathOf(key);
        Files.createDirectories(path.getParent());
        Files.write(path, java.util.Arrays.copyOf(fileHeader, ReferenceChunkFrames.FILE_PAYLOAD_OFFSET));
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(CorruptChunkException.class, () -> files.read(key, () -> { }));
            assertThrows(CorruptChunkException.class, () -> files.readInto(key, arena.allocate(64)));
            assertThrows(CorruptChunkException.class, () -> files.readHeader(path));
        }
        assertEquals(1L << 40, format.decodeHeader(ByteBuffer.wrap(header), "test").payloadBytes(),
                "in memory only the header is checked: the caller checks the length against what follows");
    }

    /** Runs each read path on a good and a bad file, so class loading does not count as the first try's allocation. */
    private static void loadTheClassesOnce(DiskChunkFormat format, DiskChunkFiles files) throws Exception {
        ChunkKey key = key(9);
        files.write(key, MemorySegment.ofArray(new byte[100]));
        Path path = files.pathOf(key);
        byte[] good = Files.readAllBytes(path);
        for (byte[] file : new byte[][] {good, java.util.Arrays.copyOf(good, 50)}) {
            Files.write(path, file);
            try {
                format.decodeHeader(ByteBuffer.wrap(file), "warm-up");
                files.readHeader(path);
                files.read(key, () -> { }).close();
            } catch (CorruptChunkException expected) {
                // the bad one
            }
        }
        Files.delete(path);
    }

    /** A valid file of {@code key}: written by the tier, or encoded here with a parent key and token count. */
    private static byte[] validFile(Gen gen, DiskChunkFiles files, ChunkKey key, byte[] payload) throws Exception {
        if (gen.chance(0.3)) {
            files.write(key, MemorySegment.ofArray(payload));
            byte[] written = Files.readAllBytes(files.pathOf(key));
            Files.delete(files.pathOf(key));
            return written;
        }
        byte[] parent = gen.chance(0.5) ? new byte[0] : gen.bytes(gen.between(0, 64));
        byte[] fp = gen.chance(0.9) ? FP_BYTES : gen.bytes(8);
        byte[] keyBytes = gen.chance(0.9) ? key.toBytes() : gen.bytes(gen.between(16, 64));
        return ReferenceChunkFrames.chunkFile(fp, keyBytes, parent, gen.between(0, 4096), payload);
    }

    /** An accepted file must be, byte for byte, the encoding of the key and payload with its parent and token count. */
    private static void assertAcceptedIsAnEncodingOf(ChunkKey key, byte[] payload, byte[] file, ChunkHeader h) {
        byte[] expected = ReferenceChunkFrames.chunkFile(FP_BYTES, key.toBytes(), h.parent(), h.tokenCount(), payload);
        assertArrayEquals(expected, file, "an accepted file is a valid encoding of the key and payload");
    }

    private static void assertHeader(ChunkHeader expected, DiskChunkFormat.Header got) {
        assertArrayEquals(expected.key(), got.key().toBytes(), "key");
        assertArrayEquals(expected.parent(), got.parentKey(), "parent");
        assertEquals(expected.tokenCount(), got.tokenCount(), "token count");
        assertEquals(expected.payloadBytes(), got.payloadBytes(), "payload length");
        assertEquals(expected.payloadCrc(), got.payloadCrc(), "payload checksum");
        assertEquals(expected.headerBytes(), got.headerBytes(), "header length");
        assertEquals(expected.codecId(), got.codecId(), "codec id");
        assertEquals(expected.logicalBytes(), got.logicalBytes(), "logical length");
    }
}
