package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.testing.HalfBytesTestCodec;
import org.lmcache4j.testing.ReferenceChunkFrames;
import org.lmcache4j.testing.ZeroRunsTestCodec;

/** The disk tier with a codec: smaller files, the same bytes back, and bad encodings as misses. */
class DiskTierCodecTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 1, 8, KvDtype.BF16); // 64 bytes per token
    private static final CacheIdentity IDENTITY = new CacheIdentity(CacheNamespace.of("codec-model", LAYOUT), 256, HashAlgorithm.SHA_256);
    private static final int CHUNK = (int) LAYOUT.chunkBytes(256);

    @TempDir
    Path root;

    private DiskTier open(String options) {
        String url = root.toUri() + (options.isEmpty() ? "" : "?" + options);
        return (DiskTier) StorageTiers.open(url, IDENTITY, new TierOptions(64 * CHUNK, 1L << 30, LAYOUT)); // chunks up to 1 MiB
    }

    /** A chunk of {@code tokens} tokens, mostly zeros (it shrinks under the test codec). */
    private static byte[] sparse(long seed, int tokens) {
        byte[] b = new byte[tokens * LAYOUT.bytesPerToken()];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < b.length; i += 97) {
            b[i] = (byte) r.nextInt(1, 256);
        }
        return b;
    }

    private static byte[] random(long seed, int tokens) {
        byte[] b = new byte[tokens * LAYOUT.bytesPerToken()];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static byte[] readInto(DiskTier t, ChunkKey key, int bytes) {
        try (Arena arena = Arena.ofShared()) { // as a cpu page: a reader's helper thread may decode into it
            MemorySegment target = arena.allocate(bytes + 4096L, 4096);
            long n = t.readInto(key, target);
            return n < 0 ? null : target.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private static int headerInt(Path file, int at) throws Exception {
        return ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
    }

    @Test
    void aChunkThatShrinksIsStoredEncodedAndReadBackExactlyByBothReads() throws Exception {
        byte[] chunk = sparse(1, 256);
        try (DiskTier t = open("codec=" + ZeroRunsTestCodec.NAME)) {
            assertTrue(t.put(key(1), MemorySegment.ofArray(chunk)));
            Path file = t.pathOf(key(1)).orElseThrow();
            long stored = Files.size(file) - DiskChunkFormat.PAYLOAD_OFFSET;
            assertTrue(stored < chunk.length / 2, "stored " + stored + " of " + chunk.length + " bytes");
            assertEquals(Files.size(file), t.stats().usedBytes(), "the budget is charged the encoded file");
            assertEquals(ZeroRunsTestCodec.ID, headerInt(file, 64), "codec id in the header (key of 32 bytes, no parent)");
            assertArrayEquals(chunk, readInto(t, key(1), chunk.length));
            try (ChunkBuffer b = t.get(key(1)).orElseThrow()) {
                assertArrayEquals(chunk, b.segment().toArray(ValueLayout.JAVA_BYTE));
            }
        }
        try (DiskTier raw = open("")) {
            assertArrayEquals(chunk, readInto(raw, key(1), chunk.length), "a tier set to raw still reads encoded chunks, by their id");
        }
    }

    @Test
    void aChunkThatWouldNotShrinkIsStoredRaw() throws Exception {
        byte[] chunk = random(2, 256);
        try (DiskTier t = open("codec=" + ZeroRunsTestCodec.NAME)) {
            t.put(key(2), MemorySegment.ofArray(chunk));
            Path file = t.pathOf(key(2)).orElseThrow();
            assertEquals(DiskChunkFormat.fileBytes(chunk.length), Files.size(file));
            assertEquals(2, headerInt(file, 8), "raw: the header of the version before codecs, as earlier releases wrote");
            assertArrayEquals(chunk, readInto(t, key(2), chunk.length));
        }
    }

    @Test
    void anEncodingThatDoesNotDecodeIsAMissAndItsFileDeleted() throws Exception {
        byte[] chunk = sparse(3, 256);
        try (DiskTier t = open("codec=" + ZeroRunsTestCodec.NAME)) {
            t.put(key(3), MemorySegment.ofArray(chunk));
            Path file = t.pathOf(key(3)).orElseThrow();
            byte[] bytes = Files.readAllBytes(file);
            int payload = DiskChunkFormat.PAYLOAD_OFFSET;
            ReferenceChunkFrames.putInt(bytes, payload + 1, Integer.MAX_VALUE); // the first run claims more than the chunk
            // the stored bytes' checksum made right again, so only the decoder can tell
            ReferenceChunkFrames.putInt(bytes, 88, ReferenceChunkFrames.crc32c(bytes, payload, bytes.length - payload));
            ReferenceChunkFrames.fixChecksum(bytes, 0, 96);
            Files.write(file, bytes);
            assertEquals(null, readInto(t, key(3), chunk.length), "a miss, not data");
            assertFalse(Files.exists(file), "deleted");
            assertFalse(t.contains(key(3)));
            assertEquals(1, t.corruptChunks());
        }
    }

    @Test
    void aChunkOfACodecNotOnThePathIsAMiss() throws Exception {
        byte[] chunk = random(4, 16);
        byte[] fp = HexFormat.of().parseHex(LAYOUT.fingerprint());
        byte[] header = ReferenceChunkFrames.codecHeader(3, fp, key(4).toBytes(), new byte[0], 77, chunk.length * 2L, 0, chunk.length,
                ReferenceChunkFrames.crc32c(chunk, 0, chunk.length));
        try (DiskTier t = open("")) {
            t.put(key(4), MemorySegment.ofArray(chunk));
            Path file = t.pathOf(key(4)).orElseThrow();
            byte[] bytes = java.util.Arrays.copyOf(header, DiskChunkFormat.PAYLOAD_OFFSET + chunk.length);
            System.arraycopy(chunk, 0, bytes, DiskChunkFormat.PAYLOAD_OFFSET, chunk.length);
            Files.write(file, bytes);
            assertEquals(null, readInto(t, key(4), chunk.length * 2));
            assertFalse(Files.exists(file), "deleted");
        }
    }

    @Test
    void filesOfTheVersionBeforeCodecsAreReadAsRawChunks() throws Exception {
        byte[] chunk = random(5, 32);
        byte[] fp = HexFormat.of().parseHex(LAYOUT.fingerprint());
        try (DiskTier t = open("")) {
            t.put(key(5), MemorySegment.ofArray(new byte[chunk.length])); // makes the directory and the file name
        }
        Path dir = root.resolve(IDENTITY.directoryName());
        String hex = key(5).toString();
        Files.write(dir.resolve(hex.substring(0, 2)).resolve(hex + ".kv"), ReferenceChunkFrames.chunkFile(fp, key(5).toBytes(),
                new byte[0], 0, chunk));
        try (DiskTier t = open("")) {
            assertTrue(t.contains(key(5)), "indexed at start");
            assertArrayEquals(chunk, readInto(t, key(5), chunk.length));
        }
    }

    @Test
    void anUnknownCodecOrOneWithoutALayoutIsRefusedAtOpen() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> open("codec=nope"));
        assertTrue(unknown.getMessage().contains("codec 'nope'") && unknown.getMessage().contains(ZeroRunsTestCodec.NAME)
                && unknown.getMessage().contains("lmcache-codec"), unknown.getMessage());
        IllegalArgumentException noLayout = assertThrows(IllegalArgumentException.class, () -> StorageTiers.open(root.toUri()
                + "?codec=" + ZeroRunsTestCodec.NAME, IDENTITY, new TierOptions(CHUNK, 1L << 30)));
        assertTrue(noLayout.getMessage().contains("without a KV layout"), noLayout.getMessage());
    }

    @Test
    void chunksALossyCodecStoredAreCountedWhenServed() {
        byte[] chunk = random(6, 64);
        try (DiskTier t = open("codec=" + HalfBytesTestCodec.NAME)) {
            t.put(key(6), MemorySegment.ofArray(chunk));
            assertEquals(0, t.stats().lossyChunksServed());
            assertArrayEquals(HalfBytesTestCodec.decoded(chunk), readInto(t, key(6), chunk.length));
            try (ChunkBuffer b = t.get(key(6)).orElseThrow()) {
                assertArrayEquals(HalfBytesTestCodec.decoded(chunk), b.segment().toArray(ValueLayout.JAVA_BYTE));
            }
            assertEquals(2, t.stats().lossyChunksServed(), "both reads served lossy KV");
            assertTrue(t.servesLossy());
        }
        try (DiskTier raw = open("")) {
            assertEquals(null, readInto(raw, key(6), chunk.length), "a tier not configured lossy serves no lossy chunk");
            assertFalse(raw.contains(key(6)), "this tier's own file: dropped");
            assertEquals(0, raw.stats().lossyChunksServed());
            assertFalse(raw.servesLossy());
        }
    }

    @Test
    void aLargeChunkIsDecodedWhileItsStoredBytesAreStillBeingRead() throws Exception {
        // 1 MiB logical: a literal byte and 15 zeros, 65,536 times; stored in 704 KiB, read in two blocks
        byte[] chunk = new byte[16384 * LAYOUT.bytesPerToken()];
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < chunk.length; i += 16) {
            chunk[i] = (byte) r.nextInt(1, 256);
        }
        try (DiskTier t = open("codec=" + ZeroRunsTestCodec.NAME)) {
            t.put(key(9), MemorySegment.ofArray(chunk));
            long before = ZeroRunsTestCodec.EARLY_RUNS.get();
            for (int i = 0; i < 4; i++) {
                assertArrayEquals(chunk, readInto(t, key(9), chunk.length));
            }
            assertTrue(ZeroRunsTestCodec.EARLY_RUNS.get() > before, "runs decoded before the last stored byte was read");
            Path file = t.pathOf(key(9)).orElseThrow();
            byte[] bytes = Files.readAllBytes(file);
            int payload = DiskChunkFormat.PAYLOAD_OFFSET;
            // each 16 bytes encode as LITERAL(1) + byte + ZEROS(15): 11 bytes; the zero run of the middle one claims too much
            int middle = (chunk.length / 16) / 2;
            ReferenceChunkFrames.putInt(bytes, payload + 11 * middle + 7, Integer.MAX_VALUE);
            ReferenceChunkFrames.putInt(bytes, 88, ReferenceChunkFrames.crc32c(bytes, payload, bytes.length - payload));
            ReferenceChunkFrames.fixChecksum(bytes, 0, 96);
            Files.write(file, bytes);
            assertEquals(null, readInto(t, key(9), chunk.length), "a bad run found while reading is a miss");
        }
    }

    @Test
    void anEncodedChunkClaimingMoreThanTheLargestChunkIsCorruptAndNothingIsAllocatedForIt() throws Exception {
        byte[] chunk = sparse(10, 256);
        try (DiskTier t = open("codec=" + ZeroRunsTestCodec.NAME)) {
            t.put(key(10), MemorySegment.ofArray(chunk));
            Path file = t.pathOf(key(10)).orElseThrow();
            byte[] bytes = Files.readAllBytes(file);
            ReferenceChunkFrames.putLong(bytes, 68, 1L << 40); // logical length: 1 TiB, the header checksum made right
            ReferenceChunkFrames.fixChecksum(bytes, 0, 96);
            Files.write(file, bytes);
            assertTrue(t.get(key(10)).isEmpty(), "a miss, not an attempt to allocate 1 TiB");
            assertFalse(Files.exists(file), "deleted");
        }
    }
}
