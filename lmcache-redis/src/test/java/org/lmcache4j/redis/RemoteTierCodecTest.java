package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.testing.ReferenceChunkFrames;
import org.lmcache4j.testing.ZeroRunsTestCodec;
import redis.clients.jedis.UnifiedJedis;

/**
 * The remote tier with {@code codec=} against a real redis-server (the direct data path; on a cluster, the
 * client's, {@link RemoteClusterCodecIT}): a chunk that shrinks is stored encoded, charged and held as its
 * encoding, and read back byte for byte by {@code get}, {@code readInto} and the batched read; one that
 * would not shrink is stored raw; a tier without the option still reads encoded chunks; an encoding that
 * does not decode (its checksum made right), a codec not on the path or a logical length beyond a chunk
 * are corrupt chunks (misses, dropped, counted); a header of the version before codecs reads as a raw chunk.
 */
class RemoteTierCodecTest {

    static final KvLayout LAYOUT = KvLayout.standard(4, 2, 64, KvDtype.BF16); // 2 KiB per token
    static final int TOKENS = 256;
    static final int CHUNK = (int) LAYOUT.chunkBytes(TOKENS); // 512 KiB
    static final int PART = 16 * 1024;
    static final byte[] FP = HexFormat.of().parseHex(LAYOUT.fingerprint());
    static final String CODEC = "codec=" + ZeroRunsTestCodec.NAME;

    @RegisterExtension
    static final LocalRedis redis = new LocalRedis(PART);

    private final CacheIdentity identity = new CacheIdentity(CacheNamespace.of("codec-" + UUID.randomUUID(), LAYOUT), TOKENS,
            HashAlgorithm.SHA_256);
    private final List<RemoteTier> opened = new ArrayList<>();

    /** The server's URL (subclasses: a cluster's). */
    String serverUrl() {
        return redis.url();
    }

    /** A client of the server outside any tier. */
    UnifiedJedis raw() {
        return redis.raw();
    }

    /** True when the tiers read and write parts on the direct data path. */
    boolean directPath() {
        return true;
    }

    @AfterEach
    void closeTiers() {
        opened.forEach(RemoteTier::close);
    }

    RemoteTier open(String options) {
        RemoteTier t = RemoteTier.open(serverUrl() + "?partBytes=" + PART + (options.isEmpty() ? "" : "&" + options), identity,
                new TierOptions(CHUNK, 0, LAYOUT));
        opened.add(t);
        assertEquals(directPath(), t.link().hasWire(), "the data path under test");
        return t;
    }

    /** Mostly zeros (the test codec shrinks it to about a ninth). */
    static byte[] sparse(long seed) {
        byte[] b = new byte[CHUNK];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < b.length; i += 97) {
            b[i] = (byte) r.nextInt(1, 256);
        }
        return b;
    }

    static byte[] random(long seed) {
        byte[] b = new byte[CHUNK];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    // ---- what is stored ----------------------------------------------------------------------------

    private byte[] indexKey(RemoteTier t, ChunkKey key) {
        return t.keys().indexKeys(t.keys().shardOf(key)).get(1);
    }

    private byte[] storedHeader(RemoteTier t, ChunkKey key) {
        byte[] header = raw().hget(indexKey(t, key), RemoteKeys.member(key));
        assertNotNull(header, "header of " + key + " in the index");
        return header;
    }

    private RemoteChunkFormat.Header header(RemoteTier t, ChunkKey key) throws CorruptChunkException {
        return new RemoteChunkFormat(LAYOUT.fingerprint(), PART, false).decode(storedHeader(t, key), key, "test");
    }

    private byte[][] partKeys(RemoteTier t, ChunkKey key) throws CorruptChunkException {
        RemoteChunkFormat.Header h = header(t, key);
        return t.keys().parts(key, h.writeId(), h.parts());
    }

    /** The stored bytes of {@code key}: its parts, one after the other. */
    private byte[] storedBytes(RemoteTier t, ChunkKey key) throws CorruptChunkException {
        byte[][] parts = partKeys(t, key);
        byte[] all = new byte[0];
        for (byte[] p : parts) {
            byte[] part = raw().get(p);
            int at = all.length;
            all = Arrays.copyOf(all, at + part.length);
            System.arraycopy(part, 0, all, at, part.length);
        }
        return all;
    }

    /** Replaces the chunk header of {@code key}'s stored header by {@code chunkHeader}, keeping its part table. */
    private void replaceChunkHeader(RemoteTier t, ChunkKey key, byte[] chunkHeader) {
        byte[] header = storedHeader(t, key);
        int n = ReferenceChunkFrames.intAt(header, 12);
        byte[] replaced = Arrays.copyOf(chunkHeader, chunkHeader.length + header.length - n);
        System.arraycopy(header, n, replaced, chunkHeader.length, header.length - n);
        raw().hset(indexKey(t, key), RemoteKeys.member(key), replaced);
    }

    // ---- reads -------------------------------------------------------------------------------------

    private static byte[] got(RemoteTier t, ChunkKey key) {
        try (ChunkBuffer b = t.get(key).orElse(null)) {
            return b == null ? null : b.segment().toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private static byte[] readInto(RemoteTier t, ChunkKey key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment target = arena.allocate(CHUNK + 4096L, 4096); // larger than the chunk, as a cpu page may be
            long n = t.readInto(key, target);
            return n < 0 ? null : target.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** {@code readAllInto} of {@code keys}: what each target holds, null for a miss. */
    private static byte[][] readAll(RemoteTier t, ChunkKey... keys) {
        try (Arena arena = Arena.ofConfined()) {
            List<MemorySegment> targets = new ArrayList<>();
            for (int i = 0; i < keys.length; i++) {
                targets.add(arena.allocate(CHUNK + 4096L, 4096));
            }
            long[] n = t.readAllInto(List.of(keys), targets);
            byte[][] out = new byte[keys.length][];
            for (int i = 0; i < keys.length; i++) {
                out[i] = n[i] < 0 ? null : targets.get(i).asSlice(0, n[i]).toArray(ValueLayout.JAVA_BYTE);
            }
            return out;
        }
    }

    /** Asserts that a read found nothing, without printing what it found when it did. */
    private static void assertMiss(byte[] read, String what) {
        assertTrue(read == null, what + ": read " + (read == null ? 0 : read.length) + " bytes (expected: a miss)");
    }

    private static void assertEveryReadReturns(RemoteTier t, ChunkKey key, byte[] expected) {
        assertArrayEquals(expected, got(t, key), "get");
        assertArrayEquals(expected, readInto(t, key), "readInto");
        byte[][] batch = readAll(t, key(98), key, key(99)); // 98 and 99 are never stored
        assertMiss(batch[0], "a miss");
        assertArrayEquals(expected, batch[1], "readAllInto");
        assertMiss(batch[2], "a miss");
    }

    // ---- tests -------------------------------------------------------------------------------------

    @Test
    void aChunkThatShrinksIsStoredAndChargedEncodedAndEveryReadReturnsItExactly() throws Exception {
        byte[] chunk = sparse(1);
        RemoteTier t = open(CODEC);
        assertTrue(t.put(key(1), MemorySegment.ofArray(chunk)));
        RemoteChunkFormat.Header h = header(t, key(1));
        assertEquals(ZeroRunsTestCodec.ID, h.kvCodecId(), "codec id in the header");
        assertEquals(CHUNK, h.logicalBytes(), "logical length in the header");
        assertTrue(h.payloadBytes() < CHUNK / 4, "stored " + h.payloadBytes() + " of " + CHUNK + " bytes");
        assertTrue(h.parts() > 1, "the encoding is cut into parts too: " + h.parts());
        assertEquals(h.payloadBytes(), storedBytes(t, key(1)).length, "bytes the parts hold in Redis");
        assertEquals(h.payloadBytes(), t.stats().usedBytes(), "the budget is charged the stored bytes");
        assertEveryReadReturns(t, key(1), chunk);
    }

    @Test
    void anEncodedChunkDecodesAsItsPartsArriveAndAChangedLaterPartMakesItAMiss() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(directPath(), "parts arrive one by one on the direct data path");
        byte[] chunk = sparse(5);
        RemoteTier t = open(CODEC);
        assertTrue(t.put(key(1), MemorySegment.ofArray(chunk)));
        assertTrue(header(t, key(1)).parts() > 2, "parts: " + header(t, key(1)).parts());
        try (Arena arena = Arena.ofShared()) { // a cpu page's memory, as the engine's reads target
            MemorySegment target = arena.allocate(CHUNK);
            ZeroRunsTestCodec.EARLY_RUNS.set(0);
            assertEquals(CHUNK, t.readInto(key(1), target));
            assertArrayEquals(chunk, target.toArray(ValueLayout.JAVA_BYTE));
            assertTrue(ZeroRunsTestCodec.EARLY_RUNS.get() > 0, "decoded before the last part arrived");

            byte[][] parts = partKeys(t, key(1));
            byte[] last = raw().get(parts[parts.length - 1]);
            last[last.length - 1] ^= 1; // the checksum covers it: what was decoded early must not count
            raw().set(parts[parts.length - 1], last);
            assertEquals(-1, t.readInto(key(1), target));
        }
    }

    @Test
    void aBatchOfEncodedAndRawChunksComesBackExactly() {
        RemoteTier t = open(CODEC);
        byte[][] chunks = {sparse(1), random(2), sparse(3), random(4)};
        for (int i = 0; i < chunks.length; i++) {
            assertTrue(t.put(key(i + 1), MemorySegment.ofArray(chunks[i])));
        }
        byte[][] read = readAll(t, key(1), key(2), key(99), key(3), key(4));
        assertArrayEquals(chunks[0], read[0]);
        assertArrayEquals(chunks[1], read[1]);
        assertMiss(read[2], "never stored");
        assertArrayEquals(chunks[2], read[3]);
        assertArrayEquals(chunks[3], read[4]);
    }

    @Test
    void aChunkThatWouldNotShrinkIsStoredRaw() throws Exception {
        byte[] chunk = random(2);
        RemoteTier t = open(CODEC);
        assertTrue(t.put(key(2), MemorySegment.ofArray(chunk)));
        RemoteChunkFormat.Header h = header(t, key(2));
        assertEquals(0, h.kvCodecId(), "codec id 0: raw");
        assertEquals(CHUNK, h.payloadBytes());
        assertEquals(CHUNK, t.stats().usedBytes());
        assertEveryReadReturns(t, key(2), chunk);
    }

    @Test
    void aTargetSmallerThanTheDecodedChunkIsRefusedAsForARawChunk() {
        RemoteTier t = open(CODEC);
        assertTrue(t.put(key(1), MemorySegment.ofArray(sparse(1))));
        try (Arena arena = Arena.ofConfined()) {
            // larger than the encoding, smaller than the chunk
            MemorySegment small = arena.allocate(CHUNK / 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.readInto(key(1), small));
            assertTrue(e.getMessage().contains(CHUNK + " bytes"), e.getMessage());
        }
        assertTrue(t.contains(key(1)), "still stored");
        assertEquals(0, t.corruptChunks());
    }

    @Test
    void aTierWithoutTheCodecOptionReadsEncodedChunks() {
        byte[] chunk = sparse(5);
        assertTrue(open(CODEC).put(key(5), MemorySegment.ofArray(chunk)));
        RemoteTier plain = open("");
        assertEveryReadReturns(plain, key(5), chunk);
    }

    @Test
    void anEncodingThatDoesNotDecodeIsACorruptChunk() throws Exception {
        RemoteTier t = open(CODEC);
        List<Runnable> reads = List.of(
                () -> assertMiss(got(t, key(1)), "get"),
                () -> assertMiss(readInto(t, key(2)), "readInto"),
                () -> assertMiss(readAll(t, key(3), key(99))[0], "readAllInto"));
        for (int i = 1; i <= reads.size(); i++) {
            ChunkKey key = key(i);
            assertTrue(t.put(key, MemorySegment.ofArray(sparse(i))));
            byte[][] parts = partKeys(t, key);
            byte[] stored = storedBytes(t, key);
            RemoteChunkFormat.Header h = header(t, key);
            byte[] part0 = raw().get(parts[0]);
            ReferenceChunkFrames.putInt(part0, 1, Integer.MAX_VALUE); // the first run claims more than the chunk
            raw().set(parts[0], part0);
            System.arraycopy(part0, 0, stored, 0, part0.length);
            // the stored bytes' checksum made right again, so only the decoder can tell
            replaceChunkHeader(t, key, ReferenceChunkFrames.codecHeader(ReferenceChunkFrames.FRAME_VERSION, FP, key.toBytes(),
                    new byte[0], ZeroRunsTestCodec.ID, CHUNK, 0, stored.length, ReferenceChunkFrames.crc32c(stored, 0, stored.length)));
            assertEquals(h.payloadBytes(), header(t, key).payloadBytes(), "a consistent header");
            reads.get(i - 1).run();
            assertFalse(t.contains(key), "dropped");
            for (byte[] p : parts) {
                assertFalse(raw().exists(p), "its parts are deleted");
            }
            assertEquals(i, t.corruptChunks());
        }
        assertEquals(0, t.stats().usedBytes());
    }

    @Test
    void aChunkOfACodecNotOnThePathIsAMissHereAndStaysForConnectorsThatHaveIt() throws Exception {
        RemoteTier t = open("");
        for (int i = 1; i <= 3; i++) {
            byte[] chunk = java.util.Arrays.copyOf(random(i), CHUNK / 2); // as if codec 77 had halved a whole chunk
            assertTrue(t.put(key(i), MemorySegment.ofArray(chunk)));
            replaceChunkHeader(t, key(i), ReferenceChunkFrames.codecHeader(ReferenceChunkFrames.FRAME_VERSION, FP, key(i).toBytes(),
                    new byte[0], 77, CHUNK, 0, chunk.length, ReferenceChunkFrames.crc32c(chunk, 0, chunk.length)));
        }
        assertMiss(got(t, key(1)), "get");
        assertMiss(readInto(t, key(2)), "readInto");
        assertMiss(readAll(t, key(3), key(99))[0], "readAllInto");
        for (int i = 1; i <= 3; i++) {
            assertTrue(t.contains(key(i)), "left in the store: another connector may have codec 77");
        }
        assertEquals(0, t.corruptChunks(), "not counted as corrupt");
    }

    @Test
    void anEncodedChunkClaimingMoreThanAChunkIsCorruptAndNotAllocated() throws Exception {
        RemoteTier t = open(CODEC);
        assertTrue(t.put(key(1), MemorySegment.ofArray(sparse(1))));
        byte[] stored = storedBytes(t, key(1));
        replaceChunkHeader(t, key(1), ReferenceChunkFrames.codecHeader(ReferenceChunkFrames.FRAME_VERSION, FP, key(1).toBytes(),
                new byte[0], ZeroRunsTestCodec.ID, 1L << 40, 0, stored.length, ReferenceChunkFrames.crc32c(stored, 0, stored.length)));
        assertMiss(got(t, key(1)), "a tebibyte is not allocated");
        assertFalse(t.contains(key(1)));
        assertEquals(1, t.corruptChunks());
    }

    @Test
    void aHeaderOfTheVersionBeforeCodecsReadsAsARawChunk() throws Exception {
        RemoteTier t = open(CODEC);
        byte[] chunk = random(6);
        assertTrue(t.put(key(6), MemorySegment.ofArray(chunk)));
        replaceChunkHeader(t, key(6), ReferenceChunkFrames.rawHeader(1, FP, key(6).toBytes(), new byte[0], 0, CHUNK,
                ReferenceChunkFrames.crc32c(chunk, 0, CHUNK)));
        assertEquals(1, ReferenceChunkFrames.intAt(storedHeader(t, key(6)), 8), "version 1 in the index");
        assertEveryReadReturns(t, key(6), chunk);
        assertEquals(0, t.corruptChunks());
    }

    @Test
    void anUnknownCodecOrOneWithoutALayoutIsRefusedAtOpen() {
        String url = serverUrl() + "?codec=nope";
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> RemoteTier.open(url, identity, new TierOptions(CHUNK, 0, LAYOUT)));
        assertTrue(unknown.getMessage().contains(url) && unknown.getMessage().contains("codec 'nope'")
                && unknown.getMessage().contains(ZeroRunsTestCodec.NAME), unknown.getMessage());
        String withCodec = serverUrl() + "?" + CODEC;
        IllegalArgumentException noLayout = assertThrows(IllegalArgumentException.class,
                () -> RemoteTier.open(withCodec, identity, new TierOptions(CHUNK, 0)));
        assertTrue(noLayout.getMessage().contains(withCodec) && noLayout.getMessage().contains("without a KV layout"),
                noLayout.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RemoteTier.open(withCodec, identity), "the shorthand without options");
    }
}
