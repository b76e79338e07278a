package org.lmcache4j.pool;

import java.nio.file.Path;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;

/** Opens pool tiers by URL through the tier providers, as a connector does. */
final class PoolTiers {

    static final CacheIdentity IDENTITY = new CacheIdentity(new CacheNamespace("pool-model", "00112233aabbccdd", "", 0, 1), 256,
            HashAlgorithm.SHA_256);

    private PoolTiers() {
    }

    /** {@code pool://} URL of {@code root} with {@code options}. */
    static String url(Path root, String options) {
        return "pool://" + root.toUri().getRawPath() + (options.isEmpty() ? "" : "?" + options);
    }

    static SharedPoolTier open(String url, int chunkBytes) {
        return (SharedPoolTier) StorageTiers.open(url, IDENTITY, new TierOptions(chunkBytes, 0));
    }
}
