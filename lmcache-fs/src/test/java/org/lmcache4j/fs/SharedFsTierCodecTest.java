package org.lmcache4j.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.lmcache4j.testing.ZeroRunsTestCodec;

/** Engines sharing one directory with different codecs: each reads what the others wrote, exactly or as lossy as stored. */
class SharedFsTierCodecTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 1, 8, KvDtype.BF16); // 64 bytes per token
    private static final CacheIdentity IDENTITY = new CacheIdentity(CacheNamespace.of("fs-codec-model", LAYOUT), 256,
            HashAlgorithm.SHA_256);
    private static final int CHUNK = (int) LAYOUT.chunkBytes(256);

    @TempDir
    Path root;

    private SharedFsTier open(String codec) {
        String url = FsTiers.url(root, "capacity=64m&sweepMillis=0" + (codec == null ? "" : "&codec=" + codec));
        return (SharedFsTier) StorageTiers.open(url, IDENTITY, new TierOptions(CHUNK, 0, LAYOUT));
    }

    private static byte[] sparse(long seed) {
        byte[] b = new byte[CHUNK];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < b.length; i += 101) {
            b[i] = (byte) r.nextInt(1, 256);
        }
        return b;
    }

    private static byte[] readInto(SharedFsTier t, ChunkKey key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment target = arena.allocate(CHUNK);
            long n = t.readInto(key, target);
            return n < 0 ? null : target.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void aChunkEncodedByOneEngineIsReadExactlyByAnotherWithoutTheSetting() throws Exception {
        byte[] chunk = sparse(1);
        try (SharedFsTier writer = open(ZeroRunsTestCodec.NAME); SharedFsTier reader = open(null)) {
            assertTrue(writer.put(key(1), MemorySegment.ofArray(chunk)));
            Path file = writer.directory().resolve(key(1).toString().substring(0, 2)).resolve(key(1) + ".kv");
            assertTrue(Files.size(file) - DiskChunkFormat.PAYLOAD_OFFSET < CHUNK / 4, "stored " + Files.size(file) + " bytes");
            assertArrayEquals(chunk, readInto(writer, key(1)));
            assertArrayEquals(chunk, readInto(reader, key(1)), "decoded by the id its header names");
            try (ChunkBuffer b = reader.get(key(1)).orElseThrow()) {
                assertArrayEquals(chunk, b.segment().toArray(ValueLayout.JAVA_BYTE));
            }
            assertEquals(0, reader.stats().lossyChunksServed());
        }
    }

    @Test
    void lossyChunksAreCountedAndAnUndecodableOneIsAMiss() throws Exception {
        byte[] chunk = sparse(2);
        try (SharedFsTier lossy = open(HalfBytesTestCodec.NAME)) {
            lossy.put(key(2), MemorySegment.ofArray(chunk));
            assertArrayEquals(HalfBytesTestCodec.decoded(chunk), readInto(lossy, key(2)));
            assertEquals(1, lossy.stats().lossyChunksServed());
            Path file = lossy.directory().resolve(key(2).toString().substring(0, 2)).resolve(key(2) + ".kv");
            byte[] bytes = Files.readAllBytes(file);
            // one stored byte fewer, header and checksum made consistent: only the decoder can tell
            byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 1);
            int payload = DiskChunkFormat.PAYLOAD_OFFSET;
            org.lmcache4j.testing.ReferenceChunkFrames.putLong(cut, 80, cut.length - payload);
            org.lmcache4j.testing.ReferenceChunkFrames.putInt(cut, 88,
                    org.lmcache4j.testing.ReferenceChunkFrames.crc32c(cut, payload, cut.length - payload));
            org.lmcache4j.testing.ReferenceChunkFrames.fixChecksum(cut, 0, 96);
            Files.write(file, cut);
            assertEquals(null, readInto(lossy, key(2)), "a miss, not data");
            assertFalse(Files.exists(file), "dropped");
        }
    }

    @Test
    void anUnknownCodecIsRefusedAtOpen() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> open("nope"));
        assertTrue(e.getMessage().contains("codec 'nope'"), e.getMessage());
    }

    @Test
    void aChunkOfACodecThisEngineLacksIsAMissHereAndStaysForOthers() throws Exception {
        byte[] stored = java.util.Arrays.copyOf(sparse(3), CHUNK / 2); // as if codec 77 had halved a chunk
        try (SharedFsTier t = open(null)) {
            t.put(key(3), MemorySegment.ofArray(new byte[CHUNK])); // the directories, and the file name
            Path file = t.directory().resolve(key(3).toString().substring(0, 2)).resolve(key(3) + ".kv");
            Files.write(file, org.lmcache4j.testing.ReferenceChunkFrames.encodedChunkFile(
                    java.util.HexFormat.of().parseHex(LAYOUT.fingerprint()), key(3).toBytes(), new byte[0], 77, CHUNK, 0, stored));
            assertEquals(null, readInto(t, key(3)));
            assertTrue(t.get(key(3)).isEmpty());
            assertTrue(Files.exists(file), "left for engines that have codec 77");
        }
    }
}
