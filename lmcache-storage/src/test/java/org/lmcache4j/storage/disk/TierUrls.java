package org.lmcache4j.storage.disk;

import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;

/** Opens tiers of the contract suite by URL through the tier providers, as a connector does. */
public final class TierUrls {

    static final CacheIdentity IDENTITY = new CacheIdentity(
            new CacheNamespace("contract-model", DiskTierContractTest.FINGERPRINT, "", 0, 1), 256, HashAlgorithm.SHA_256);

    private TierUrls() {
    }

    /** The tier at {@code url} for chunks of at most {@code chunkBytes}; no default disk budget. */
    public static StorageTier open(String url, int chunkBytes) {
        return StorageTiers.open(url, IDENTITY, new TierOptions(chunkBytes, 0));
    }
}
