package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.testing.StorageTierContract;

/**
 * The remote tier passes the StorageTier contract against a real redis-server. Each tier gets a namespace
 * of its own on one server; chunks of 64 KiB are cut into parts of 16 KiB, so every size the suite puts
 * (1 byte, a third, one byte short, whole) is a different part layout.
 */
class RemoteTierContractTest extends StorageTierContract {

    static final String FINGERPRINT = "d4f6e32487754f6c";
    static final int PART_BYTES = 16 * 1024;

    @RegisterExtension
    static final LocalRedis redis = new LocalRedis();

    /** Query options added to the URL of every tier (subclasses turn on compression). */
    String options() {
        return "";
    }

    @Override
    protected StorageTier newTier(long capacityBytes) {
        RemoteUrl url = RemoteUrl.parse(redis.url() + "?capacity=" + capacityBytes + "&partBytes=" + PART_BYTES + options());
        return new RemoteTier(url, UUID.randomUUID().toString().substring(0, 8), FINGERPRINT, System::nanoTime);
    }

    /**
     * Replaces the contract's clause for held chunks: a reader of the remote tier holds a private copy, so
     * the stored chunk it came from stays evictable (that clause exists so that eviction never frees memory
     * under a reader, which cannot happen here). Pinned chunks still block eviction, and a put with no
     * evictable chunk is refused.
     */
    @Override
    @Test
    public void putIsRefusedWhenEveryChunkIsPinnedOrHeld() {
        for (int i = 0; i < BUDGET_CHUNKS; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
            assertTrue(tier().pin(key(i), Duration.ofMinutes(5)), "pin " + i);
        }
        assertFalse(tier().put(key(99), nativeCopy(payload(99, chunkBytes()))), "put with every chunk pinned");
        assertFalse(tier().contains(key(99)), "refused chunk is absent");
        try (ChunkBuffer held = tier().get(key(1)).orElseThrow()) {
            tier().unpin(key(1));
            putOrFail(tier(), key(99), payload(99, chunkBytes()));
            assertFalse(tier().contains(key(1)), "the unpinned chunk was the only one evictable, held or not");
            assertChunkBytes(payload(1, chunkBytes()), held, "the reader's copy after its chunk was evicted");
        }
        for (int i = 0; i < BUDGET_CHUNKS; i += 2) {
            assertStored(tier(), key(i), payload(i, chunkBytes()));
        }
    }
}
