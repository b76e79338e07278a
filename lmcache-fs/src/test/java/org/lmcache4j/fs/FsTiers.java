package org.lmcache4j.fs;

import java.nio.file.Path;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;

/** Opens fs tiers by URL through the tier providers, as a connector does. */
final class FsTiers {

    /** The layout fingerprint of the tests' chunks. */
    static final String FINGERPRINT = "00112233aabbccdd";
    static final CacheIdentity IDENTITY = new CacheIdentity(new CacheNamespace("fs-model", FINGERPRINT, "", 0, 1), 256,
            HashAlgorithm.SHA_256);

    private FsTiers() {
    }

    /** {@code fs://} URL of {@code root} with {@code options} (such as {@code capacity=1m}). */
    static String url(Path root, String options) {
        return "fs://" + root.toUri().getRawPath() + "?" + options;
    }

    /** The fs tier at {@code url}, for chunks of at most {@code chunkBytes}. */
    static SharedFsTier open(String url, int chunkBytes) {
        return (SharedFsTier) StorageTiers.open(url, IDENTITY, new TierOptions(chunkBytes, 0));
    }
}
