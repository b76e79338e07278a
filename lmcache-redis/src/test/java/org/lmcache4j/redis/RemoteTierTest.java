package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.assertChunkBytes;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.testing.RedisServer;

/**
 * The remote tier against a real redis-server: damaged values are misses, never data; TTL; compression;
 * two tiers sharing a namespace; and the lookup of a whole prompt is one command.
 */
class RemoteTierTest {

    static final String FP = RemoteTierContractTest.FINGERPRINT;
    static final int PART = 16 * 1024;
    static final int CHUNK = 4 * PART + 100; // five parts, the last short

    @RegisterExtension
    static final LocalRedis redis = new LocalRedis(PART);

    private static MemorySegment segment(byte[] bytes) {
        return MemorySegment.ofArray(bytes);
    }

    /** The part keys of the stored copy of {@code key}, read from the index as the tier would. */
    private static byte[][] partKeys(RemoteTier t, ChunkKey key) throws CorruptChunkException {
        byte[] header = redis.raw().hget(t.keys().indexKeys().get(1), RemoteKeys.member(key));
        assertNotNull(header, "header of " + key + " in the index");
        RemoteChunkFormat.Header h = new RemoteChunkFormat(FP, PART, false).decode(header, key, "test");
        return t.keys().parts(key, h.writeId(), h.parts());
    }

    private static void assertMissAndForgotten(RemoteTier t, ChunkKey key, byte[][] parts) {
        assertTrue(t.get(key).isEmpty(), "a damaged chunk is a miss");
        assertFalse(t.contains(key), "and is dropped from the index");
        for (byte[] p : parts) {
            assertFalse(redis.raw().exists(p), "its parts are deleted");
        }
        TierStats s = t.stats();
        assertEquals(0, s.chunks(), "chunks after the drop: " + s);
        assertEquals(0, s.usedBytes(), "used bytes after the drop: " + s);
        assertEquals(1, s.errors(), "the drop is counted: " + s);
    }

    @Test
    void corruptedPartIsAMissNotWrongData() throws Exception {
        RemoteTier t = redis.tier("");
        byte[] content = payload(1, CHUNK);
        assertTrue(t.put(key(1), segment(content)));
        byte[][] parts = partKeys(t, key(1));
        assertEquals(5, parts.length);
        byte[] damaged = redis.raw().get(parts[2]);
        damaged[100] ^= 0x01;
        redis.raw().set(parts[2], damaged); // same length, one bit off
        assertMissAndForgotten(t, key(1), parts);
        assertEquals(1, t.corruptChunks());
        assertTrue(t.put(key(1), segment(content)), "stored again after the drop");
        try (ChunkBuffer b = t.get(key(1)).orElseThrow()) {
            assertChunkBytes(content, b, "the chunk stored again");
        }
    }

    @Test
    void readIntoACallersSegmentChecksTheChunkAsGetDoes() throws Exception {
        RemoteTier t = redis.tier("");
        byte[] content = payload(1, CHUNK);
        assertTrue(t.put(key(1), segment(content)));
        MemorySegment target = MemorySegment.ofArray(new byte[CHUNK + 7]);
        assertEquals(CHUNK, t.readInto(key(1), target));
        assertArrayEquals(content, target.asSlice(0, CHUNK).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        byte[][] parts = partKeys(t, key(1));
        byte[] damaged = redis.raw().get(parts[1]);
        damaged[7] ^= 0x10;
        redis.raw().set(parts[1], damaged);
        assertEquals(-1, t.readInto(key(1), target), "a corrupt chunk is a miss");
        assertEquals(1, t.corruptChunks());
        assertFalse(t.contains(key(1)), "and is dropped");
        assertFalse(redis.raw().exists(parts[0]), "with its parts");
    }

    @Test
    void truncatedPartIsAMiss() throws Exception {
        RemoteTier t = redis.tier("");
        assertTrue(t.put(key(1), segment(payload(1, CHUNK))));
        byte[][] parts = partKeys(t, key(1));
        redis.raw().set(parts[4], new byte[] {1, 2, 3});
        assertMissAndForgotten(t, key(1), parts);
        assertEquals(1, t.corruptChunks());
    }

    @Test
    void aPartOfAnotherTypeIsAMissCountedAsCorrupt() throws Exception {
        RemoteTier t = redis.tier("");
        assertTrue(t.put(key(1), segment(payload(1, CHUNK))));
        byte[][] parts = partKeys(t, key(1));
        redis.raw().del(parts[3]);
        redis.raw().hset(parts[3], "f".getBytes(), "v".getBytes()); // GET answers WRONGTYPE
        // regression: the client's data exception failed the call, every time, and the chunk stayed
        assertMissAndForgotten(t, key(1), parts);
        assertEquals(1, t.corruptChunks());
    }

    @Test
    void missingPartIsAMissCountedAsLost() throws Exception {
        RemoteTier t = redis.tier("");
        assertTrue(t.put(key(1), segment(payload(1, CHUNK))));
        byte[][] parts = partKeys(t, key(1));
        redis.raw().del(parts[0]); // as if the server had evicted it under maxmemory
        assertMissAndForgotten(t, key(1), parts);
        assertEquals(1, t.lostChunks());
    }

    @Test
    void corruptHeaderIsAMiss() throws Exception {
        RemoteTier t = redis.tier("");
        assertTrue(t.put(key(1), segment(payload(1, CHUNK))));
        byte[][] parts = partKeys(t, key(1));
        byte[] hdrKey = t.keys().indexKeys().get(1);
        byte[] header = redis.raw().hget(hdrKey, RemoteKeys.member(key(1)));
        header[header.length - 10] ^= 0x40;
        redis.raw().hset(hdrKey, RemoteKeys.member(key(1)), header);
        assertTrue(t.get(key(1)).isEmpty(), "a chunk with a corrupt header is a miss");
        assertFalse(t.contains(key(1)));
        assertEquals(1, t.corruptChunks());
        assertEquals(0, t.stats().usedBytes());
        // its parts cannot be named any more; they are left to the pending expiry or the server's eviction
        assertTrue(redis.raw().exists(parts[0]));
    }

    @Test
    void lookupOfA32ChunkPromptIsOneCommand() {
        RemoteTier t = redis.tier("");
        List<ChunkKey> prompt = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            prompt.add(key(i));
            if (i < 20) {
                assertTrue(t.put(key(i), segment(payload(i, 1024))));
            }
        }
        t.contains(key(0)); // warm the connection pool: no connection setup inside the count
        try (RedisServer.Monitor monitor = redis.server().monitor()) {
            boolean[] found = t.containsAll(prompt);
            assertEquals(List.of("zmscore"), monitor.clientCommands(),
                    "commands the client sent for a 32-chunk lookup (one command: one round trip)");
            for (int i = 0; i < 32; i++) {
                assertEquals(i < 20, found[i], "chunk " + i);
            }
            for (ChunkKey k : prompt) {
                t.contains(k);
            }
            assertEquals(32, monitor.clientCommands().size(), "the same lookup chunk by chunk, for contrast");
        }
    }

    @Test
    void getIsOneScriptThenOnePipelineOfPartReads() {
        RemoteTier t = redis.tier("");
        assertTrue(t.put(key(1), segment(payload(1, CHUNK))));
        t.contains(key(1));
        try (RedisServer.Monitor monitor = redis.server().monitor()) {
            t.get(key(1)).orElseThrow().close();
            assertEquals(List.of("evalsha", "get", "get", "get", "get", "get"), monitor.clientCommands());
        }
    }

    @Test
    void lz4StoresCompressibleChunksSmallerAndReturnsThemExactly() throws Exception {
        String ns = UUID.randomUUID().toString().substring(0, 8);
        RemoteTier t = redis.tier(ns, "&compression=lz4");
        byte[] content = new byte[CHUNK];
        for (int i = 0; i < content.length; i += 64) {
            content[i] = (byte) i; // mostly zeros: compresses well, as padded or sparse KV does
        }
        assertTrue(t.put(key(1), segment(content)));
        long stored = 0;
        for (byte[] p : partKeys(t, key(1))) {
            stored += redis.raw().strlen(p);
        }
        assertTrue(stored < CHUNK / 4, "stored " + stored + " bytes of " + CHUNK);
        assertEquals(CHUNK, t.stats().usedBytes(), "the budget is charged the uncompressed length");
        try (ChunkBuffer b = t.get(key(1)).orElseThrow()) {
            assertChunkBytes(content, b, "decompressed chunk");
        }
        RemoteTier plain = redis.tier(ns, "");
        try (ChunkBuffer b = plain.get(key(1)).orElseThrow()) {
            assertChunkBytes(content, b, "a tier without compression still reads compressed chunks");
        }
    }

    @Test
    void ttlExpiresChunksAndTheirParts() throws Exception {
        RemoteTier t = redis.tier("&ttlSeconds=1");
        assertTrue(t.put(key(1), segment(payload(1, CHUNK))));
        byte[][] parts = partKeys(t, key(1));
        long ttl = redis.raw().pttl(parts[0]);
        assertTrue(ttl > 900 && ttl <= 1000 + RemoteTier.PART_EXPIRY_MARGIN_MILLIS,
                "parts expire just after the chunk (never before: the index would name lost parts): pttl " + ttl);
        assertTrue(t.contains(key(1)));
        assertEquals(1, t.stats().chunks());
        Thread.sleep(1100);
        // regression: an expired chunk stayed in the usage until a put or a read touched it
        assertEquals(0, t.stats().chunks(), "the expired chunk left the usage");
        assertEquals(0, t.stats().usedBytes());
        assertFalse(t.contains(key(1)), "expired");
        assertTrue(t.get(key(1)).isEmpty(), "expired");
        for (int i = 0; i < 100 && redis.raw().exists(parts[0]); i++) {
            Thread.sleep(50);
        }
        assertFalse(redis.raw().exists(parts[0]), "the server expired the parts");
        assertTrue(t.put(key(2), segment(payload(2, 10))));
        assertEquals(1, t.stats().chunks(), "the expired chunk left the index and the budget");
        assertEquals(10, t.stats().usedBytes());
    }

    @Test
    void withoutTtlAdmittedPartsArePersistent() throws Exception {
        RemoteTier t = redis.tier("");
        assertTrue(t.put(key(1), segment(payload(1, CHUNK))));
        for (byte[] p : partKeys(t, key(1))) {
            assertEquals(-1, redis.raw().pttl(p), "no expiry once admitted");
        }
    }

    @Test
    void evictionDeletesTheVictimsParts() throws Exception {
        RemoteTier t = redis.tier("&capacity=" + 2 * CHUNK);
        assertTrue(t.put(key(1), segment(payload(1, CHUNK))));
        byte[][] first = partKeys(t, key(1));
        assertTrue(t.put(key(2), segment(payload(2, CHUNK))));
        assertTrue(t.put(key(3), segment(payload(3, CHUNK))));
        assertFalse(t.contains(key(1)));
        for (byte[] p : first) {
            assertFalse(redis.raw().exists(p), "parts of the evicted chunk are deleted");
        }
        assertEquals(2 * CHUNK, t.stats().usedBytes());
    }

    @Test
    void twoTiersOnOneNamespaceShareChunksBudgetAndPins() {
        String ns = UUID.randomUUID().toString().substring(0, 8);
        RemoteTier a = redis.tier(ns, "&capacity=" + 2 * CHUNK);
        RemoteTier b = redis.tier(ns, "&capacity=" + 2 * CHUNK);
        byte[] content = payload(1, CHUNK);
        assertTrue(a.put(key(1), segment(content)));
        try (ChunkBuffer got = b.get(key(1)).orElseThrow()) {
            assertChunkBytes(content, got, "b reads what a stored");
        }
        assertTrue(b.pin(key(1), Duration.ofMinutes(1)), "b pins it");
        assertTrue(a.put(key(2), segment(payload(2, CHUNK))));
        assertTrue(a.put(key(3), segment(payload(3, CHUNK))));
        assertTrue(a.contains(key(1)), "a's puts did not evict the chunk b pinned");
        assertFalse(a.contains(key(2)), "they evicted the unpinned one instead");
        assertEquals(a.stats().usedBytes(), b.stats().usedBytes(), "one budget");
        assertEquals(2, b.stats().chunks());
        b.unpin(key(1));
        assertTrue(b.remove(key(1)));
        assertFalse(a.contains(key(1)));
    }

    @Test
    void namespacesAreIsolated() {
        RemoteTier a = redis.tier("");
        RemoteTier b = redis.tier("");
        assertTrue(a.put(key(1), segment(payload(1, 100))));
        assertFalse(b.contains(key(1)));
        assertTrue(b.get(key(1)).isEmpty());
        b.clear();
        assertTrue(a.contains(key(1)), "clear of another namespace leaves this one alone");
    }

    @Test
    void largeChunkOfManyPartsRoundTrips() {
        RemoteTier t = redis.tier("");
        byte[] content = payload(5, 64 * PART + 7); // 65 parts
        assertTrue(t.put(key(5), segment(content)));
        try (ChunkBuffer b = t.get(key(5)).orElseThrow()) {
            assertArrayEquals(content, b.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
    }
}
