package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.testing.RedisServer;

/**
 * {@link RemoteTier#readAllInto} against a real redis-server: a batch of chunks comes back byte for byte,
 * one touch per chunk and one GET per part; a damaged chunk in the middle is a miss (dropped and counted)
 * while the others are right; a part of another type is a damaged chunk wherever it is in the batch; a
 * stalled server fails the call, and the tier works after.
 */
class RemoteBatchReadTest {

    static final String FP = RemoteTierContractTest.FINGERPRINT;
    static final int PART = 16 * 1024;
    static final int CHUNK = 3 * PART + 100; // four parts, the last short

    @RegisterExtension
    static final LocalRedis redis = new LocalRedis(PART);

    private static void putAll(RemoteTier t, int... seeds) {
        for (int s : seeds) {
            assertTrue(t.put(key(s), MemorySegment.ofArray(payload(s, CHUNK))));
        }
    }

    private static List<MemorySegment> targets(Arena arena, int n) {
        List<MemorySegment> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(arena.allocate(CHUNK + 1000)); // larger than the chunk, as a cpu page is
        }
        return out;
    }

    private static List<ChunkKey> keys(int... seeds) {
        List<ChunkKey> out = new ArrayList<>();
        for (int s : seeds) {
            out.add(key(s));
        }
        return out;
    }

    private static void assertHolds(MemorySegment target, int seed) {
        assertArrayEquals(payload(seed, CHUNK), target.asSlice(0, CHUNK).toArray(ValueLayout.JAVA_BYTE), "chunk " + seed);
    }

    private static byte[][] partKeys(RemoteTier t, ChunkKey key) throws CorruptChunkException {
        byte[] header = redis.raw().hget(t.keys().indexKeys(t.keys().shardOf(key)).get(1), RemoteKeys.member(key));
        assertNotNull(header, "header of " + key + " in the index");
        RemoteChunkFormat.Header h = new RemoteChunkFormat(FP, PART, false).decode(header, key, "test");
        return t.keys().parts(key, h.writeId(), h.parts());
    }

    @Test
    void aBatchComesBackByteForByteWithOneTouchPerChunkAndOneGetPerPart() {
        try (RemoteTier t = redis.tier(""); Arena arena = Arena.ofConfined()) {
            putAll(t, 1, 2, 3, 4);
            assertEquals(CHUNK, t.readInto(key(1), arena.allocate(CHUNK))); // the touch script is known to the server now
            List<ChunkKey> asked = keys(1, 2, 99, 3, 4); // 99 was never stored
            List<MemorySegment> targets = targets(arena, asked.size());
            List<String> commands;
            long[] got;
            try (RedisServer.Monitor monitor = redis.server().monitor()) {
                got = t.readAllInto(asked, targets);
                commands = monitor.clientCommands();
            }
            assertArrayEquals(new long[] {CHUNK, CHUNK, -1, CHUNK, CHUNK}, got);
            assertHolds(targets.get(0), 1);
            assertHolds(targets.get(1), 2);
            assertHolds(targets.get(3), 3);
            assertHolds(targets.get(4), 4);
            List<String> expected = new ArrayList<>(Collections.nCopies(5, "evalsha"));
            expected.addAll(Collections.nCopies(4 * 4, "get"));
            assertEquals(expected, commands, "the headers first, then each part of the chunks found, once");
            assertEquals(0, t.corruptChunks() + t.lostChunks());
        }
    }

    @Test
    void aServerThatForgotTheScriptsGetsThemWholeAndTheBatchIsRight() {
        try (RemoteTier t = redis.tier(""); Arena arena = Arena.ofConfined()) {
            putAll(t, 1, 2, 3);
            redis.server().call("SCRIPT", "FLUSH"); // as a restarted server
            List<MemorySegment> targets = targets(arena, 3);
            List<String> commands;
            try (RedisServer.Monitor monitor = redis.server().monitor()) {
                assertArrayEquals(new long[] {CHUNK, CHUNK, CHUNK}, t.readAllInto(keys(1, 2, 3), targets));
                commands = monitor.clientCommands();
            }
            for (int i = 0; i < 3; i++) {
                assertHolds(targets.get(i), i + 1);
            }
            List<String> expected = new ArrayList<>(Collections.nCopies(3, "evalsha"));
            expected.addAll(Collections.nCopies(3, "eval"));
            expected.addAll(Collections.nCopies(3 * 4, "get"));
            assertEquals(expected, commands, "NOSCRIPT answered by the whole script, once per call");
            MemorySegment one = arena.allocate(CHUNK);
            assertEquals(CHUNK, t.readInto(key(2), one), "and a single read after it");
            assertHolds(one, 2);
        }
    }

    @Test
    void damagedChunksInTheMiddleOfABatchAreMissesDroppedAndCountedAndTheOthersAreRight() throws Exception {
        try (RemoteTier t = redis.tier(""); Arena arena = Arena.ofConfined()) {
            putAll(t, 1, 2, 3, 4, 5);
            redis.raw().del(partKeys(t, key(2))[1]); // lost, as if the server had evicted it
            redis.raw().set(partKeys(t, key(3))[2], new byte[] {1, 2, 3}); // another length
            byte[] flipped = payload(77, PART);
            redis.raw().set(partKeys(t, key(4))[0], flipped); // same length, other bytes: the checksum
            List<MemorySegment> targets = targets(arena, 5);
            assertArrayEquals(new long[] {CHUNK, -1, -1, -1, CHUNK}, t.readAllInto(keys(1, 2, 3, 4, 5), targets));
            assertHolds(targets.get(0), 1);
            assertHolds(targets.get(4), 5);
            assertEquals(1, t.lostChunks());
            assertEquals(2, t.corruptChunks());
            for (int s : new int[] {2, 3, 4}) {
                assertFalse(t.contains(key(s)), "damaged chunk " + s + " is dropped from the index");
            }
            assertTrue(t.contains(key(1)) && t.contains(key(5)));
        }
    }

    @Test
    void aPartOfAnotherTypeIsADamagedChunkWhereverItIsInTheBatch() throws Exception {
        try (RemoteTier t = redis.tier(""); Arena arena = Arena.ofConfined()) {
            putAll(t, 1, 2, 3);
            for (int k : new int[] {2, 1}) { // a later chunk, then the first of its batch
                byte[][] parts = partKeys(t, key(k));
                redis.raw().del(parts[0]);
                redis.raw().hset(parts[0], RespConnection.bytes("f"), RespConnection.bytes("v")); // GET answers WRONGTYPE
            }
            List<MemorySegment> targets = targets(arena, 3);
            long corruptBefore = t.corruptChunks();
            // regression: the first chunk's WRONGTYPE failed the whole call, every time, and the chunk was never dropped
            assertArrayEquals(new long[] {-1, -1, CHUNK}, t.readAllInto(keys(1, 2, 3), targets));
            assertHolds(targets.get(2), 3);
            assertEquals(corruptBefore + 2, t.corruptChunks(), "both damaged chunks are counted");
            assertFalse(t.contains(key(1)) || t.contains(key(2)), "and dropped");
            assertTrue(t.contains(key(3)));
        }
    }

    @Test
    @Timeout(30)
    void aStalledServerFailsTheWholeBatchAndTheTierReadsAgainAfter() {
        try (RemoteTier t = redis.tier("&timeoutMillis=300"); Arena arena = Arena.ofConfined()) {
            putAll(t, 1, 2, 3);
            redis.server().call("CLIENT", "PAUSE", "1500", "ALL");
            try {
                assertThrows(UncheckedIOException.class, () -> t.readAllInto(keys(1, 2, 3), targets(arena, 3)));
            } finally {
                redis.server().call("CLIENT", "UNPAUSE");
            }
            List<MemorySegment> targets = targets(arena, 3);
            assertArrayEquals(new long[] {CHUNK, CHUNK, CHUNK}, t.readAllInto(keys(1, 2, 3), targets));
            for (int i = 0; i < 3; i++) {
                assertHolds(targets.get(i), i + 1);
            }
        }
    }

    @Test
    void closingTheTierLeavesNoConnectionOfItsOwnOpen() {
        long before = Long.parseLong(redis.server().info("clients").get("connected_clients"));
        try (RemoteTier t = redis.tier(""); Arena arena = Arena.ofConfined()) {
            putAll(t, 1, 2, 3);
            assertArrayEquals(new long[] {CHUNK, CHUNK, CHUNK}, t.readAllInto(keys(1, 2, 3), targets(arena, 3)));
        }
        long deadline = System.nanoTime() + 5_000_000_000L; // the server notices closed connections on its next loop
        while (Long.parseLong(redis.server().info("clients").get("connected_clients")) != before && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(before, Long.parseLong(redis.server().info("clients").get("connected_clients")));
    }
}
