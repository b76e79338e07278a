package org.lmcache4j.storage.cpu;

import java.util.Set;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTierProvider;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.storage.tier.TierUrl;

/**
 * Opens a cpu tier from {@code cpu://?capacity=1g}: pinned off-heap pages of {@link TierOptions#chunkBytes()},
 * {@code capacity} bytes in all (required). The connector builds its own cpu tier from
 * {@code maxLocalCpuBytes}; this provider lets tools and the contract suite open one by URL like any other
 * tier. Its chunks die with the process, so the identity only names them.
 */
public final class CpuTierProvider implements StorageTierProvider {

    /** The scheme of cpu tier URLs. */
    public static final String SCHEME = "cpu";

    /** For {@link java.util.ServiceLoader}. */
    public CpuTierProvider() {
    }

    @Override
    public Set<String> schemes() {
        return Set.of(SCHEME);
    }

    @Override
    public StorageTier open(String url, CacheIdentity identity, TierOptions options) {
        TierUrl parsed = TierUrl.parse(url, SCHEME, Set.of("capacity"));
        long capacity = parsed.bytes("capacity", -1, 1);
        if (capacity < 0) {
            throw TierUrl.bad(url, "no capacity", "cpu://?capacity=<bytes>, such as cpu://?capacity=1g");
        }
        return new CpuTier(capacity, options.chunkBytes());
    }
}
