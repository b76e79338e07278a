package org.lmcache4j.api.spi;

/**
 * Settings a connector passes to every {@link StorageTierProvider#open} besides the tier's URL.
 *
 * @param chunkBytes      bytes of the largest chunk the connector stores (its layout's full chunk), &gt; 0
 * @param localDiskBytes  byte budget of a tier on this machine's disk whose URL names none (a
 *                        {@code ?capacity=} option): {@code LmCacheConfig.maxLocalDiskBytes()}, &gt;= 0.
 *                        Tiers in a shared store take their budget from their URL and ignore it.
 */
public record TierOptions(long chunkBytes, long localDiskBytes) {

    public TierOptions {
        if (chunkBytes <= 0) {
            throw new IllegalArgumentException("chunkBytes: " + chunkBytes + " (expected: > 0)");
        }
        if (localDiskBytes < 0) {
            throw new IllegalArgumentException("localDiskBytes: " + localDiskBytes + " (expected: >= 0)");
        }
    }
}
