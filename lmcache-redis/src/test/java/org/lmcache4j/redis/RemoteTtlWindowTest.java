package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.assertChunkBytes;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.storage.tier.CorruptChunkException;

/**
 * Regressions of the TTL windows: parts expired before their index entry (so the index said "present"
 * for a chunk whose parts were gone), and an expired entry beyond the 64 that one put sweeps answered
 * "present" to a new put of its key, which was then skipped.
 */
class RemoteTtlWindowTest {

    private static final int PART = 4096;
    private static final int CHUNK = 2 * PART;

    @RegisterExtension
    static final LocalRedis redis = new LocalRedis(PART);

    @Test
    void everyPartOutlivesItsIndexEntryEvenWhenTheWriterIsSlowToAdmit() throws CorruptChunkException {
        RemoteTier t = redis.tier("&ttlSeconds=60");
        t.onPutStep((step, key) -> {
            if (step == RemoteTier.PutStep.PARTS_WRITTEN) {
                sleep(300); // a slow writer: parts written, admission later
            }
        });
        assertTrue(t.put(key(1), MemorySegment.ofArray(payload(1, CHUNK))));
        long entryDeadline = redis.raw().zscore(t.keys().indexKeys().get(5), RemoteKeys.member(key(1))).longValue();
        for (byte[] part : partKeys(t, key(1))) {
            long partDeadline = redis.raw().pexpireTime(part);
            assertTrue(partDeadline >= entryDeadline, "part expires at " + partDeadline + ", its index entry at " + entryDeadline
                    + " (expected: not before)");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aPutOverAnExpiredEntryBeyondTheSweepStoresTheChunk() {
        RemoteTier t = redis.tier("&ttlSeconds=2");
        int chunks = 80; // one put sweeps at most 64 expired entries
        for (int i = 0; i < chunks; i++) {
            assertTrue(t.put(key(i), MemorySegment.ofArray(payload(i, CHUNK))));
        }
        awaitExpired(t, chunks);
        ChunkKey last = key(chunks - 1); // the latest deadline: swept last
        assertFalse(t.contains(last), "expired");
        byte[] content = payload(chunks - 1, CHUNK);
        assertTrue(t.put(last, MemorySegment.ofArray(content)));
        assertTrue(t.contains(last), "stored again");
        try (ChunkBuffer b = t.get(last).orElseThrow(() -> new AssertionError("the new put was skipped: a miss"))) {
            assertChunkBytes(content, b, "after the put over the expired entry");
        }
    }

    /** Waits until the server's clock passed every entry's deadline (the entries stay in the index). */
    private static void awaitExpired(RemoteTier t, int chunks) {
        byte[] exp = t.keys().indexKeys().get(5);
        double latest = redis.raw().zrangeWithScores(exp, 0, -1).stream().mapToDouble(s -> s.getScore()).max().orElseThrow();
        long entries = redis.raw().zcard(exp);
        assertTrue(entries > 64, entries + " of " + chunks + " entries left (expected: more than one put sweeps; the puts took"
                + " longer than the TTL)");
        while (serverMillis() <= latest) {
            sleep(50);
        }
    }

    private static long serverMillis() {
        List<?> time = (List<?>) redis.server().call("TIME");
        return Long.parseLong((String) time.get(0)) * 1000 + Long.parseLong((String) time.get(1)) / 1000;
    }

    private static byte[][] partKeys(RemoteTier t, ChunkKey key) throws CorruptChunkException {
        byte[] header = redis.raw().hget(t.keys().indexKeys().get(1), RemoteKeys.member(key));
        RemoteChunkFormat.Header h = new RemoteChunkFormat(RemoteTierContractTest.FINGERPRINT, PART, false).decode(header, key, "test");
        return t.keys().parts(key, h.writeId(), h.parts());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
