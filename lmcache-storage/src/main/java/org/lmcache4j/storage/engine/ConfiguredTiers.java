package org.lmcache4j.storage.engine;

import java.util.ArrayList;
import java.util.List;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.api.spi.TierRefusedException;
import org.lmcache4j.api.spi.TierUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the tiers below the cpu tier that a config asks for, by URL through the tier providers, under the
 * connector's {@link CacheIdentity}. They outlive the process, so they need an explicit model id.
 */
final class ConfiguredTiers {

    private static final Logger LOG = LoggerFactory.getLogger(ConfiguredTiers.class);

    private ConfiguredTiers() {
    }

    /** Closes a tier whose connector failed to open, logging rather than masking the first failure. */
    static void closeQuietly(StorageTier tier) {
        try {
            tier.close();
        } catch (RuntimeException e) {
            LOG.warn("closing the {} tier after a failed open failed: {}", tier.name(), e.toString());
        }
    }

    /**
     * The slower tiers the config asks for ({@link LmCacheConfig#slowerTiers()}), fastest first, each opened
     * by the {@link org.lmcache4j.api.spi.StorageTierProvider} of its URL's scheme under the config's
     * identity: the disk tier in the namespace's own subdirectory, a shared store in the namespace's keys.
     * Every URL's provider is found before anything opens, so an unknown scheme fails with nothing to undo;
     * the tiers then open slowest first, so a malformed store URL fails before a local directory is locked.
     * A tier that is {@linkplain TierUnavailableException unavailable} (another connector of the namespace
     * holds the directory: a second replica on the machine) is left out and this connector runs without
     * it; one that {@linkplain TierRefusedException refuses} KV of another identity is shown unhealthy with
     * the reason. An unreachable server fails nothing here (the remote tier fails and recovers at run time).
     */
    static List<StorageTier> slowerTiers(LmCacheConfig config, KvLayout layout) {
        if (config == null || layout == null) {
            return List.of();
        }
        requireModelIdForSharedTiers(config);
        List<String> urls = config.slowerTiers();
        urls.forEach(StorageTiers::provider);
        CacheIdentity identity = config.identity(layout);
        TierOptions options = new TierOptions(layout.chunkBytes(config.chunkTokens()), config.maxLocalDiskBytes(), layout);
        StorageTier[] opened = new StorageTier[urls.size()];
        boolean ok = false;
        try {
            for (int i = urls.size() - 1; i >= 0; i--) {
                try {
                    opened[i] = StorageTiers.open(urls.get(i), identity, options);
                } catch (TierRefusedException e) {
                    LOG.warn("{}; this connector runs without a {} tier", e.getMessage(), e.tierName());
                    opened[i] = new RefusedTier(e.tierName(), e.getMessage());
                } catch (TierUnavailableException e) {
                    LOG.warn("{}; this connector runs without a {} tier", e.getMessage(), e.tierName());
                }
            }
            List<StorageTier> tiers = new ArrayList<>();
            for (StorageTier t : opened) {
                if (t != null) {
                    tiers.add(t);
                }
            }
            ok = true;
            return tiers;
        } finally {
            if (!ok) {
                for (StorageTier t : opened) {
                    if (t != null) {
                        closeQuietly(t);
                    }
                }
            }
        }
    }

    /**
     * KV on disk or in a shared store outlives the process that computed it, so it must say which weights
     * computed it: without a model id, a base model and its fine-tune (same layout) would be served each
     * other's KV with every check passing.
     */
    private static void requireModelIdForSharedTiers(LmCacheConfig config) {
        if (config.hasModelId() || config.slowerTiers().isEmpty()) {
            return;
        }
        String tiers = !config.tiers().isEmpty() ? "the tiers " + config.tiers().stream().map(StorageTiers::scheme)
                .map(scheme -> scheme + "://...").toList()
                : config.localDisk().map(d -> "a disk tier at " + d).orElse("")
                + (config.localDisk().isPresent() && config.remoteUrl().isPresent() ? " and " : "")
                + (config.remoteUrl().isPresent() ? "a remote tier" : "");
        throw new IllegalArgumentException("modelId: not set (expected: the model's identity, set with "
                + "LmCacheConfig.builder().modelId(...) or LMCACHE_MODEL_ID, because this connector has " + tiers
                + ", whose KV outlives this process: without it, two models with the same KV layout, such as a base model"
                + " and its fine-tune, would be served each other's KV. Use a name that changes with the weights:"
                + " name + revision, or a digest of the weights; or turn those tiers off (noLocalDisk(), no remoteUrl)"
                + " for a cpu-only cache)");
    }
}
