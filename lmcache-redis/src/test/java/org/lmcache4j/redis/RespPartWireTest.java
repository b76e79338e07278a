package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.testing.RedisServer;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The remote tier's direct data path on a real redis-server: parts land byte for byte in the caller's
 * memory with the checksum of exactly those bytes, a missing, mis-sized or mis-typed part is named and leaves the
 * connection in step for the next call, and writes come back byte for byte with their expiry.
 */
class RespPartWireTest {

    private static final int PART = 64 << 10;

    @RegisterExtension
    static final LocalRedis redis = new LocalRedis();

    private static byte[] bytes(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static byte[][] keys(String prefix, int n) {
        byte[][] k = new byte[n][];
        for (int i = 0; i < n; i++) {
            k[i] = RespConnection.bytes(prefix + i);
        }
        return k;
    }

    @Test
    void partsLandByteForByteWithTheirChecksumAndAMissingOrMisSizedPartIsNamed() {
        byte[][] k = keys("w1:", 3);
        byte[][] v = {bytes(1, PART), bytes(2, PART), bytes(3, 1000)};
        for (int i = 0; i < 3; i++) {
            redis.raw().set(k[i], v[i]);
        }
        try (RespPartWire wire = RespPartWire.forUrl(RemoteUrl.parse(redis.url())).orElseThrow(); Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(2 * PART + 1000);
            CRC32C crc = new CRC32C();
            int[] bad = {-1};
            assertEquals(RespPartWire.ReadOutcome.READ, wire.readParts(k, new int[] {PART, PART, 1000}, dst, crc, bad));
            CRC32C expected = new CRC32C();
            long off = 0;
            for (byte[] part : v) {
                assertArrayEquals(part, dst.asSlice(off, part.length).toArray(ValueLayout.JAVA_BYTE));
                expected.update(part);
                off += part.length;
            }
            assertEquals(expected.getValue(), crc.getValue());

            redis.raw().del(k[1]);
            assertEquals(RespPartWire.ReadOutcome.MISSING, wire.readParts(k, new int[] {PART, PART, 1000}, dst, new CRC32C(), bad));
            assertEquals(1, bad[0]);
            redis.raw().set(k[1], v[1]);
            assertEquals(RespPartWire.ReadOutcome.WRONG_LENGTH, wire.readParts(k, new int[] {PART, PART, 999}, dst.asSlice(0, 2 * PART + 999),
                    new CRC32C(), bad));
            assertEquals(2, bad[0]);
            // the connection is in step: the next read on it gets its own replies
            assertEquals(RespPartWire.ReadOutcome.READ, wire.readParts(new byte[][] {k[2]}, new int[] {1000}, dst.asSlice(0, 1000),
                    new CRC32C(), bad));
            assertArrayEquals(v[2], dst.asSlice(0, 1000).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void aConnectionIdleLongerThanTheBoundIsReplacedNotUsed() throws Exception {
        byte[][] k = keys("w-idle:", 1);
        redis.raw().set(k[0], bytes(5, 100));
        redis.raw().configSet("timeout", "1"); // the server closes clients idle for a second, as a NAT or load balancer may
        try (RespPartWire wire = new RespPartWire(RemoteUrl.parse(redis.url()), 500_000_000L); Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(100);
            int[] bad = {-1};
            assertEquals(RespPartWire.ReadOutcome.READ, wire.readParts(k, new int[] {100}, dst, new CRC32C(), bad));
            Thread.sleep(2_500); // the server's idle timeout runs once a second
            assertEquals(RespPartWire.ReadOutcome.READ, wire.readParts(k, new int[] {100}, dst, new CRC32C(), bad),
                    "the dropped connection was idle longer than the bound: a new one was opened");
            assertArrayEquals(bytes(5, 100), dst.toArray(ValueLayout.JAVA_BYTE));
        } finally {
            redis.dropRaw(); // its pooled connection was idle too: the server closed it
            redis.raw().configSet("timeout", "0");
        }
    }

    @Test
    void aPartOfAnotherTypeIsItsOwnOutcomeAndTheNextCallWorks() {
        byte[][] k = keys("w2:", 2);
        redis.raw().hset(k[0], RespConnection.bytes("f"), RespConnection.bytes("v")); // GET of a hash: WRONGTYPE
        redis.raw().set(k[1], bytes(4, 100));
        try (RespPartWire wire = RespPartWire.forUrl(RemoteUrl.parse(redis.url())).orElseThrow(); Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(200);
            int[] firstBad = new int[1];
            // damage, as a part of another length is: an outcome, never thrown (it was the client's data exception)
            assertEquals(RespPartWire.ReadOutcome.WRONG_TYPE, wire.readParts(k, new int[] {100, 100}, dst, new CRC32C(), firstBad));
            assertEquals(0, firstBad[0]);
            assertEquals(RespPartWire.ReadOutcome.READ, wire.readParts(new byte[][] {k[1]}, new int[] {100}, dst.asSlice(0, 100),
                    new CRC32C(), new int[1]));
            assertArrayEquals(bytes(4, 100), dst.asSlice(0, 100).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void writesComeBackByteForByteWithTheirExpiryAndTheirChecksum() {
        byte[][] k = keys("w3:", 3);
        byte[] payload = bytes(5, 2 * PART + 7);
        try (RespPartWire wire = RespPartWire.forUrl(RemoteUrl.parse(redis.url())).orElseThrow(); Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(payload.length);
            MemorySegment.copy(payload, 0, src, ValueLayout.JAVA_BYTE, 0, payload.length);
            CRC32C crc = new CRC32C();
            wire.writeParts(k, src, PART, 60_000, crc);
            CRC32C expected = new CRC32C();
            expected.update(payload);
            assertEquals(expected.getValue(), crc.getValue());
            for (int i = 0; i < 3; i++) {
                int from = i * PART;
                assertArrayEquals(java.util.Arrays.copyOfRange(payload, from, Math.min(payload.length, from + PART)), redis.raw().get(k[i]));
                long ttl = redis.raw().pttl(k[i]);
                assertTrue(ttl > 0 && ttl <= 60_000, "expiry of part " + i + ": " + ttl);
            }
        }
    }

    @Test
    void aServerThatIsGoneIsAConnectionFailure() {
        RedisServer gone = RedisServer.start();
        String url = gone.url();
        gone.close();
        try (RespPartWire wire = RespPartWire.forUrl(RemoteUrl.parse(url + "?timeoutMillis=300")).orElseThrow();
             Arena arena = Arena.ofConfined()) {
            assertThrows(JedisConnectionException.class,
                    () -> wire.readParts(keys("w4:", 1), new int[] {1}, arena.allocate(1), new CRC32C(), new int[1]));
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(30)
    void aStalledServerFailsEachCallWithinTheTimeoutAndTheWireWorksAfter() {
        byte[][] k = keys("w5:", 1);
        redis.raw().set(k[0], bytes(6, 1000));
        try (RespPartWire wire = RespPartWire.forUrl(RemoteUrl.parse(redis.url() + "?timeoutMillis=300")).orElseThrow();
             Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(1000);
            assertEquals(RespPartWire.ReadOutcome.READ, wire.readParts(k, new int[] {1000}, dst, new CRC32C(), new int[1]));
            redis.server().call("CLIENT", "PAUSE", "1500", "ALL");
            long t0 = System.nanoTime();
            assertThrows(JedisConnectionException.class, () -> wire.readParts(k, new int[] {1000}, dst, new CRC32C(), new int[1]));
            assertThrows(JedisConnectionException.class, () -> wire.writeParts(k, dst, 1000, 60_000, new CRC32C()));
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis < 2 * 300 + 400, "two calls bounded by the timeout: " + millis + " ms");
            redis.server().call("CLIENT", "UNPAUSE");
            dst.fill((byte) 0);
            assertEquals(RespPartWire.ReadOutcome.READ, wire.readParts(k, new int[] {1000}, dst, new CRC32C(), new int[1]));
            assertArrayEquals(bytes(6, 1000), dst.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /**
     * 32 callers at once, with the server paused so that each holds its connection while the others
     * come: the wire opens no more connections than {@code poolSize} (the others wait for one), and each
     * caller gets its own part byte for byte. Counted by the server ({@code total_connections_received}):
     * the test's own calls in the window are the pause and the second reading of the counter.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void manyCallersAtOnceNeverOpenMoreConnectionsThanThePoolAndEachGetsItsBytes() throws Exception {
        int callers = 32;
        int poolSize = 4;
        byte[][] k = keys("w-many:", callers);
        for (int i = 0; i < callers; i++) {
            redis.raw().set(k[i], bytes(100 + i, PART));
        }
        try (RespPartWire wire = RespPartWire.forUrl(RemoteUrl.parse(redis.url() + "?poolSize=" + poolSize + "&timeoutMillis=20000"))
                .orElseThrow()) {
            long before = Long.parseLong(redis.server().info("stats").get("total_connections_received"));
            redis.server().call("CLIENT", "PAUSE", "1500", "ALL");
            java.util.List<Thread> threads = new java.util.ArrayList<>();
            java.util.concurrent.ConcurrentLinkedQueue<String> wrong = new java.util.concurrent.ConcurrentLinkedQueue<>();
            for (int i = 0; i < callers; i++) {
                int n = i;
                threads.add(Thread.ofPlatform().start(() -> {
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment dst = arena.allocate(PART);
                        RespPartWire.ReadOutcome r = wire.readParts(new byte[][] {k[n]}, new int[] {PART}, dst, new CRC32C(), new int[1]);
                        if (r != RespPartWire.ReadOutcome.READ
                                || !java.util.Arrays.equals(bytes(100 + n, PART), dst.toArray(ValueLayout.JAVA_BYTE))) {
                            wrong.add("caller " + n + ": " + r);
                        }
                    } catch (RuntimeException e) {
                        wrong.add("caller " + n + ": " + e);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            long opened = Long.parseLong(redis.server().info("stats").get("total_connections_received")) - before - 2;
            assertEquals(java.util.List.of(), java.util.List.copyOf(wrong), "every caller read its own part");
            assertTrue(opened <= poolSize, "connections the wire opened for " + callers + " callers: " + opened
                    + " (expected: at most poolSize, " + poolSize + ")");
        }
    }

    @Test
    void severalChunksComeBackByteForByteEachWithItsOwnChecksum() {
        int[][] lengths = {{PART, 7}, {300}, {PART, PART, 1}};
        List<RespPartWire.PartRead> reads = new ArrayList<>();
        List<byte[][]> values = new ArrayList<>();
        try (RespPartWire wire = RespPartWire.forUrl(RemoteUrl.parse(redis.url())).orElseThrow(); Arena arena = Arena.ofConfined()) {
            for (int c = 0; c < lengths.length; c++) {
                byte[][] k = keys("wb" + c + ":", lengths[c].length);
                byte[][] v = new byte[k.length][];
                for (int i = 0; i < k.length; i++) {
                    v[i] = bytes(100L * c + i, lengths[c][i]);
                    redis.raw().set(k[i], v[i]);
                }
                values.add(v);
                reads.add(new RespPartWire.PartRead(k, lengths[c], arena.allocate(java.util.Arrays.stream(lengths[c]).sum()), new CRC32C()));
            }
            wire.readChunks(reads);
            for (int c = 0; c < lengths.length; c++) {
                RespPartWire.PartRead r = reads.get(c);
                assertEquals(RespPartWire.ReadOutcome.READ, r.outcome(), "chunk " + c);
                CRC32C expected = new CRC32C();
                long off = 0;
                for (byte[] part : values.get(c)) {
                    assertArrayEquals(part, r.dst.asSlice(off, part.length).toArray(ValueLayout.JAVA_BYTE), "chunk " + c);
                    expected.update(part);
                    off += part.length;
                }
                assertEquals(expected.getValue(), r.crc.getValue(), "chunk " + c + "'s own checksum");
            }
        }
    }

    @Test
    void aMissingPartOrAnErrorReplyInALaterChunkSpoilsOnlyThatChunkAndTheConnectionStaysInStep() {
        byte[][] good0 = keys("wc0:", 2);
        byte[][] missing = keys("wc1:", 2);
        byte[][] wrongType = keys("wc2:", 2);
        byte[][] good3 = keys("wc3:", 1);
        redis.raw().set(good0[0], bytes(1, 100));
        redis.raw().set(good0[1], bytes(2, 100));
        redis.raw().set(missing[0], bytes(3, 100)); // missing[1] never written
        redis.raw().hset(wrongType[0], RespConnection.bytes("f"), RespConnection.bytes("v")); // GET of a hash: WRONGTYPE
        redis.raw().set(wrongType[1], bytes(4, 100));
        redis.raw().set(good3[0], bytes(5, 100));
        try (RespPartWire wire = RespPartWire.forUrl(RemoteUrl.parse(redis.url())).orElseThrow(); Arena arena = Arena.ofConfined()) {
            List<RespPartWire.PartRead> reads = List.of(
                    new RespPartWire.PartRead(good0, new int[] {100, 100}, arena.allocate(200), new CRC32C()),
                    new RespPartWire.PartRead(missing, new int[] {100, 100}, arena.allocate(200), new CRC32C()),
                    new RespPartWire.PartRead(wrongType, new int[] {100, 100}, arena.allocate(200), new CRC32C()),
                    new RespPartWire.PartRead(good3, new int[] {100}, arena.allocate(100), new CRC32C()));
            wire.readChunks(reads);
            assertEquals(RespPartWire.ReadOutcome.READ, reads.get(0).outcome());
            assertEquals(RespPartWire.ReadOutcome.MISSING, reads.get(1).outcome());
            assertEquals(1, reads.get(1).firstBad());
            assertEquals(RespPartWire.ReadOutcome.WRONG_TYPE, reads.get(2).outcome());
            assertEquals(0, reads.get(2).firstBad());
            assertEquals(RespPartWire.ReadOutcome.READ, reads.get(3).outcome(), "the chunk after the damaged one is read");
            assertArrayEquals(bytes(1, 100), reads.get(0).dst.asSlice(0, 100).toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(bytes(2, 100), reads.get(0).dst.asSlice(100, 100).toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(bytes(5, 100), reads.get(3).dst.toArray(ValueLayout.JAVA_BYTE));
            MemorySegment again = arena.allocate(100);
            assertEquals(RespPartWire.ReadOutcome.READ, wire.readParts(good3, new int[] {100}, again, new CRC32C(), new int[1]),
                    "the pooled connection is in step: every reply was drained");
            assertArrayEquals(bytes(5, 100), again.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void clusterAndTlsUrlsHaveNoDirectPath() {
        assertTrue(RespPartWire.forUrl(RemoteUrl.parse("rediss://127.0.0.1:1")).isEmpty());
        assertTrue(RespPartWire.forUrl(RemoteUrl.parse("redis-cluster://127.0.0.1:1")).isEmpty());
    }
}
