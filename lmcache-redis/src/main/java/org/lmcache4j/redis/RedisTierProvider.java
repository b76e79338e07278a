package org.lmcache4j.redis;

import java.util.Set;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTierProvider;
import org.lmcache4j.api.spi.TierOptions;

/**
 * Opens the remote tier from a Redis or Valkey URL ({@code redis://cache:6379}, TLS, cluster; options in
 * {@link RemoteUrl}) in the identity's namespace. Its budget comes from the URL ({@code capacity}), never
 * from {@link TierOptions}: the store is shared and its size is the operator's. A {@code codec=} option
 * encodes chunks for chunks of {@link TierOptions#layout()}, which it needs.
 */
public final class RedisTierProvider implements StorageTierProvider {

    private static final Set<String> SCHEMES = Set.of("redis", "rediss", "valkey", "valkeys", "redis-cluster",
            "rediss-cluster", "valkey-cluster", "valkeys-cluster");

    /** For {@link java.util.ServiceLoader}. */
    public RedisTierProvider() {
    }

    @Override
    public Set<String> schemes() {
        return SCHEMES;
    }

    @Override
    public StorageTier open(String url, CacheIdentity identity, TierOptions options) {
        return RemoteTier.open(url, identity, options);
    }
}
