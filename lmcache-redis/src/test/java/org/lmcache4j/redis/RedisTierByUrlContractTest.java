package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;

/**
 * The remote tier opened by a {@code redis://} URL through the provider lookup ({@link StorageTiers}), as a
 * connector opens it, passes the StorageTier contract (with the remote tier's clause for held chunks). Each
 * tier gets an identity of its own, so a namespace of its own on the one server.
 */
class RedisTierByUrlContractTest extends RemoteTierContractTest {

    @Override
    protected StorageTier newTier(long capacityBytes) {
        CacheIdentity identity = new CacheIdentity(new CacheNamespace("contract-" + UUID.randomUUID(), FINGERPRINT, "", 0, 1),
                256, HashAlgorithm.SHA_256);
        return StorageTiers.open(redis.url() + "?capacity=" + capacityBytes + "&partBytes=" + PART_BYTES + options(), identity,
                new TierOptions(chunkBytes(), 0));
    }

    @Test
    void theProviderOfTheRedisSchemeOpensTheRemoteTier() {
        assertInstanceOf(RemoteTier.class, tier());
    }
}
