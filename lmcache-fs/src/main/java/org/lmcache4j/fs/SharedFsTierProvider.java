package org.lmcache4j.fs;

import java.util.Set;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTierProvider;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.storage.tier.TierCodec;

/**
 * Opens the shared-filesystem tier from {@code fs:///mnt/kv?capacity=500g} or {@code shared+file:///mnt/kv?...}
 * (options in the README's "Shared filesystem tier" section): chunk files in the identity's own subdirectory
 * of a directory many engines share. Its budget comes from the URL ({@code capacity}), never from
 * {@link TierOptions#localDiskBytes()}: the directory is shared and its size is the operator's.
 */
public final class SharedFsTierProvider implements StorageTierProvider {

    /** For {@link java.util.ServiceLoader}. */
    public SharedFsTierProvider() {
    }

    @Override
    public Set<String> schemes() {
        return SharedFsUrl.SCHEMES;
    }

    @Override
    public StorageTier open(String url, CacheIdentity identity, TierOptions options) {
        SharedFsUrl parsed = SharedFsUrl.parse(url);
        return SharedFsTier.open(parsed, identity, TierCodec.forTier(url, parsed.codec(), options.layout())
                .withMaxLogicalBytes(options.chunkBytes()));
    }
}
