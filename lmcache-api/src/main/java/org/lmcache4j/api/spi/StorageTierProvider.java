package org.lmcache4j.api.spi;

import java.util.Set;
import org.lmcache4j.api.CacheIdentity;

/**
 * Opens {@link StorageTier}s of one kind from their URLs: {@code file:///var/cache/kv} (the disk tier,
 * {@code lmcache-storage}), {@code redis://cache:6379} (the Redis/Valkey tier, {@code lmcache-redis}),
 * {@code fs:///mnt/kv?capacity=500g} (a directory many engines share, {@code lmcache-fs}).
 * Found with {@link java.util.ServiceLoader} by {@link StorageTiers}, so adding a tier module to the class
 * or module path makes its schemes usable in {@code LmCacheConfig.tiers} with no code change.
 *
 * <p>A provider is stateless and cheap to load: it parses nothing and opens nothing until {@link #open}.
 * Implementations register in {@code META-INF/services/org.lmcache4j.api.spi.StorageTierProvider} (class
 * path) and with {@code provides} in their {@code module-info} (module path); every tier they open passes
 * {@code StorageTierContract} in {@code src-test-fixtures}.
 */
public interface StorageTierProvider {

    /** The URL schemes this provider opens, lower case, such as {@code file} or {@code redis}; never empty. */
    Set<String> schemes();

    /**
     * Opens the tier at {@code url} for the chunks of {@code identity}. A tier that outlives the process
     * keeps them apart from other identities' chunks (its own directory, key prefix or bucket) and refuses
     * KV recorded under another identity.
     *
     * <p>The URL is passed as the operator wrote it, not as a {@link java.net.URI}: store URLs may carry
     * passwords that {@code URI} rejects; each provider parses its own.
     *
     * @param url      the tier's URL; its scheme is one of {@link #schemes()}
     * @param identity whose chunks the tier holds
     * @param options  settings of the connector that are not part of the URL
     * @return the open tier; the caller owns it and closes it
     * @throws IllegalArgumentException when the URL is malformed (the message says what is expected)
     * @throws TierUnavailableException when the tier cannot be used now but the connector can run without it
     *                                  (its directory is held by another connector, or it holds KV of another
     *                                  identity: {@link TierRefusedException})
     */
    StorageTier open(String url, CacheIdentity identity, TierOptions options);
}
