package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.storage.tier.CorruptChunkException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Regression: a put that evicted chunks from the index and then died (or timed out) before deleting
 * their parts left those parts in Redis forever, without a TTL and outside the budget. Victims now go
 * to the namespace's garbage set in the same script that evicts them, and later puts sweep it.
 */
class RemoteOrphanedPartsTest {

    private static final int PART = 4096;
    private static final int CHUNK = 4 * PART;
    private static final int TIMEOUT_MILLIS = 200;

    @RegisterExtension
    final LocalRedis redis = new LocalRedis(PART);
    private RemoteTier tier;
    private String namespace;

    @BeforeEach
    void openTier() {
        namespace = UUID.randomUUID().toString().substring(0, 8);
        tier = redis.tier(namespace, "&capacity=" + 2 * CHUNK + "&timeoutMillis=" + TIMEOUT_MILLIS);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void writersDyingBetweenEvictionAndUnlinkLeaveNoPartWithoutTtlOutsideTheIndex() throws Exception {
        Random faults = new Random(13);
        boolean[] failNext = new boolean[1];
        tier.onPutStep((step, key) -> {
            if (step == RemoteTier.PutStep.ADMITTED && failNext[0]) {
                throw new IllegalStateException("injected: the writer dies after the eviction, before the unlink");
            }
        });
        int failed = 0;
        for (int i = 0; i < 1000; i++) {
            failNext[0] = faults.nextBoolean();
            byte[] content = payload(i, CHUNK);
            if (failNext[0]) {
                failed++;
                int n = i;
                assertThrows(IllegalStateException.class, () -> tier.put(key(n), MemorySegment.ofArray(content)));
            } else {
                assertTrue(tier.put(key(i), MemorySegment.ofArray(content)), "put " + i);
            }
        }
        assertTrue(failed > 400, "faults injected: " + failed);
        failNext[0] = false;
        Thread.sleep(RemoteTier.garbageLeaseMillis(TIMEOUT_MILLIS) + 100); // what the dead writers left is due
        for (int i = 1000; i < 1064; i++) {
            assertTrue(tier.put(key(i), MemorySegment.ofArray(payload(i, CHUNK))), "put " + i);
        }

        Set<String> referenced = referencedParts();
        List<String> parts = partKeys();
        assertEquals(2 * CHUNK / PART, referenced.size(), "parts the index references");
        assertTrue(parts.containsAll(referenced), "SCAN finds the parts the index references: " + referenced + " in " + parts);
        List<String> orphans = new ArrayList<>();
        for (String part : parts) {
            if (redis.raw().pttl(part) == -1 && !referenced.contains(part)) {
                orphans.add(part);
            }
        }
        assertEquals(List.of(), orphans, "parts without a TTL that the index does not reference");
        assertEquals(2, redis.raw().zcard(tier.keys().indexKeys().getFirst()), "chunks in the index");
    }

    /** Every part key of the namespace in the server, found with SCAN. */
    private List<String> partKeys() {
        List<String> out = new ArrayList<>();
        ScanParams match = new ScanParams().match("*:{" + RemoteKeys.versioned(namespace) + "}:*:*:*").count(1000); // key:writeId:part
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = redis.raw().scan(cursor, match);
            out.addAll(page.getResult());
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return out;
    }

    /** The part keys the index's headers name. */
    private Set<String> referencedParts() throws CorruptChunkException {
        Set<String> out = new HashSet<>();
        RemoteChunkFormat format = new RemoteChunkFormat(RemoteTierContractTest.FINGERPRINT, PART, false);
        for (byte[] header : redis.raw().hgetAll(tier.keys().indexKeys().get(1)).values()) {
            RemoteChunkFormat.Header h = format.decode(header, null, "test");
            for (byte[] k : tier.keys().parts(h.chunk().key(), h.writeId(), h.parts())) {
                out.add(new String(k, StandardCharsets.US_ASCII));
            }
        }
        return out;
    }
}
