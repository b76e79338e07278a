package org.lmcache4j.api.spi;

import org.lmcache4j.api.KvLayout;

/**
 * Settings a connector passes to every {@link StorageTierProvider#open} besides the tier's URL.
 *
 * @param chunkBytes      bytes of the largest chunk the connector stores (its layout's full chunk), &gt; 0
 * @param localDiskBytes  byte budget of a tier on this machine's disk whose URL names none (a
 *                        {@code ?capacity=} option): {@code LmCacheConfig.maxLocalDiskBytes()}, &gt;= 0.
 *                        Tiers in a shared store take their budget from their URL and ignore it.
 * @param layout          the KV layout of the chunks, which a {@link KvCodec} needs to encode and decode them;
 *                        null when the caller has none (a tier then stores chunks raw and refuses a
 *                        {@code codec=} option)
 */
public record TierOptions(long chunkBytes, long localDiskBytes, KvLayout layout) {

    public TierOptions {
        if (chunkBytes <= 0) {
            throw new IllegalArgumentException("chunkBytes: " + chunkBytes + " (expected: > 0)");
        }
        if (localDiskBytes < 0) {
            throw new IllegalArgumentException("localDiskBytes: " + localDiskBytes + " (expected: >= 0)");
        }
    }

    /** Options without a layout: chunks are stored raw. */
    public TierOptions(long chunkBytes, long localDiskBytes) {
        this(chunkBytes, localDiskBytes, null);
    }
}
