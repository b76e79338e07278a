package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.assertChunkBytes;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.testing.RedisServer;

/**
 * The remote tier when the server misbehaves: every call is bounded by the timeout when the server
 * stalls; when it dies, calls fail fast, the circuit opens, and the tier works again once the server
 * is back on the same port. Each test has a server of its own.
 */
class RemoteTierFaultTest {

    private static final int TIMEOUT_MILLIS = 300;
    private static final int OPEN_MILLIS = 300;

    @RegisterExtension
    final LocalRedis redis = new LocalRedis(16 << 10);
    private RemoteTier tier;

    @BeforeEach
    void openTier() {
        tier = redis.tier("&timeoutMillis=" + TIMEOUT_MILLIS + "&breakerFailures=3&breakerOpenMillis=" + OPEN_MILLIS);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void callsToAStalledServerAreBoundedByTheTimeout() {
        byte[] content = payload(1, 64 * 1024);
        assertTrue(tier.put(key(1), MemorySegment.ofArray(content)));
        redis.server().call("CLIENT", "PAUSE", "2000", "ALL"); // the server holds every command for 2 s
        long bound = TIMEOUT_MILLIS + 400;
        assertFailsWithin(bound, "get", () -> tier.get(key(1)));
        assertFailsWithin(bound, "contains", () -> tier.contains(key(1)));
        assertFailsWithin(bound, "put", () -> tier.put(key(2), MemorySegment.ofArray(content)));
        awaitWorking();
        try (ChunkBuffer b = tier.get(key(1)).orElseThrow()) {
            assertChunkBytes(content, b, "after the stall");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void killedServerOpensTheCircuitAndTheTierReconnectsWhenItReturns() {
        byte[] before = payload(1, 64 * 1024);
        assertTrue(tier.put(key(1), MemorySegment.ofArray(before)));
        redis.server().kill();

        for (int i = 0; i < 3; i++) {
            assertFailsWithin(TIMEOUT_MILLIS + 400, "get while the server is down", () -> tier.get(key(1)));
        }
        assertEquals(RemoteCircuitBreaker.State.OPEN, tier.link().breaker().state(), "open after 3 failures");
        assertFalse(tier.stats().healthy(), "unhealthy while open");
        long start = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            assertThrows(UncheckedIOException.class, () -> tier.contains(key(1)));
        }
        long perCallMicros = (System.nanoTime() - start) / 100 / 1000;
        assertTrue(perCallMicros < 2000, "calls fail fast while the circuit is open: " + perCallMicros + " us each");

        redis.server().restart(); // same port, empty (no persistence)
        awaitWorking();
        assertEquals(RemoteCircuitBreaker.State.CLOSED, tier.link().breaker().state());
        assertTrue(tier.stats().healthy());
        assertFalse(tier.contains(key(1)), "the restarted server is empty");
        byte[] after = payload(2, 64 * 1024);
        assertTrue(tier.put(key(2), MemorySegment.ofArray(after)));
        try (ChunkBuffer b = tier.get(key(2)).orElseThrow()) {
            assertChunkBytes(after, b, "after the reconnection");
        }
        assertTrue(tier.link().breaker().timesOpened() >= 1);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void unreachableServerAtStartIsAFailingTierNotAnError() {
        redis.server().kill();
        RemoteTier late = RemoteTier.open(redis.url() + "?timeoutMillis=" + TIMEOUT_MILLIS + "&breakerOpenMillis=" + OPEN_MILLIS,
                new org.lmcache4j.api.CacheIdentity(new org.lmcache4j.api.CacheNamespace("m", RemoteTierContractTest.FINGERPRINT, "", 0, 1),
                        256, org.lmcache4j.api.HashAlgorithm.SHA_256));
        try {
            assertThrows(UncheckedIOException.class, () -> late.contains(key(1)));
            assertFalse(late.stats().healthy());
            redis.server().restart();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            boolean works = false;
            while (!works && System.nanoTime() < deadline) {
                try {
                    works = late.put(key(1), MemorySegment.ofArray(new byte[10]));
                } catch (UncheckedIOException e) {
                    sleep(50);
                }
            }
            assertTrue(works, "the tier works once the server is up");
        } finally {
            late.close();
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aServerOutOfMemoryRefusesThePutAndNothingIsLeftBehind() {
        try (RedisServer full = RedisServer.start("--maxmemory", "3mb", "--maxmemory-policy", "noeviction");
             RemoteTier t = new RemoteTier(RemoteUrl.parse(full.url() + "?partBytes=64k"), "ns", RemoteTierContractTest.FINGERPRINT,
                     System::nanoTime)) {
            assertTrue(t.put(key(1), MemorySegment.ofArray(payload(1, 256 * 1024))), "a chunk that fits");
            long keysBefore = (Long) full.call("DBSIZE");
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> t.put(key(2), MemorySegment.ofArray(payload(2, 8 << 20))), "a chunk larger than the server's memory");
            assertTrue(e.getMessage().contains("OOM"), e.getMessage());
            assertEquals(keysBefore, (Long) full.call("DBSIZE"), "the parts written before the refusal are deleted");
            assertFalse(t.contains(key(2)));
            assertEquals(1, t.stats().chunks());
            assertTrue(t.stats().healthy(), "a refused request is no outage: the circuit stays closed");
        }
    }

    private static void assertFailsWithin(long millis, String what, Supplier<?> call) {
        long start = System.nanoTime();
        UncheckedIOException e = assertThrows(UncheckedIOException.class, call::get, what);
        long took = (System.nanoTime() - start) / 1_000_000;
        assertTrue(took <= millis, what + " took " + took + " ms (expected: at most " + millis + "): " + e.getMessage());
    }

    /** Retries a cheap call until it succeeds (the circuit probes every OPEN_MILLIS), at most 10 s. */
    private void awaitWorking() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try {
                tier.contains(key(0));
                return;
            } catch (UncheckedIOException e) {
                sleep(50);
            }
        }
        throw new AssertionError("the tier did not work again within 10 s: " + tier.link().breaker().state());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
