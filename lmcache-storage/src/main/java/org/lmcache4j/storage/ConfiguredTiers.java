package org.lmcache4j.storage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.spi.StorageTier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the tiers below the cpu tier that a config asks for, under the connector's
 * {@link CacheIdentity}: the disk tier in the identity's own directory, then the remote tier in the
 * identity's namespace. Both outlive the process, so both need an explicit model id.
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
     * The slower tiers the config asks for, fastest first: the disk tier when {@code localDisk} is set, in
     * the namespace's own subdirectory, then the remote tier when {@code remoteUrl} is set. When another
     * connector of the same namespace holds that directory (a second replica on the machine), this one
     * runs without a disk tier rather than failing. A malformed remote URL fails here, before anything is
     * opened; an unreachable server does not (the remote tier fails and recovers at run time).
     */
    static List<StorageTier> slowerTiers(LmCacheConfig config, KvLayout layout) {
        if (config == null || layout == null) {
            return List.of();
        }
        requireModelIdForSharedTiers(config);
        CacheIdentity identity = config.identity(layout);
        RemoteTier remote = config.remoteUrl().map(url -> RemoteTier.open(url, identity)).orElse(null);
        List<StorageTier> tiers = new ArrayList<>();
        boolean ok = false;
        try {
            if (config.localDisk().isPresent()) {
                if (config.maxLocalDiskBytes() <= 0) {
                    throw new IllegalArgumentException("maxLocalDiskBytes: " + config.maxLocalDiskBytes()
                            + " (expected: > 0 when localDisk is set to " + config.localDisk().get() + ")");
                }
                Path dir = config.localDisk().get().resolve(identity.directoryName());
                warnAboutUnrecordedDirectories(config.localDisk().get());
                try {
                    tiers.add(new DiskTier(dir, config.maxLocalDiskBytes(), identity));
                } catch (DiskDirectoryBusyException e) {
                    LOG.warn("{}; this connector runs without a disk tier", e.getMessage());
                } catch (IdentityMismatchException e) {
                    LOG.warn("{}; this connector runs without a disk tier", e.getMessage());
                    tiers.add(new RefusedTier(DiskTier.NAME, e.getMessage()));
                }
            }
            if (remote != null) {
                tiers.add(remote);
            }
            ok = true;
            return tiers;
        } finally {
            if (!ok && remote != null) {
                remote.close();
            }
        }
    }

    /**
     * Logs, once per open, the namespace directories under {@code root} that hold a disk tier's lock file
     * but no identity record: written by a build before identities were recorded (its directory names did
     * not include the chunk size and hash), never read again and in no budget: the operator may delete them.
     */
    private static void warnAboutUnrecordedDirectories(Path root) {
        List<String> stale = new ArrayList<>();
        try (java.util.stream.Stream<Path> dirs = java.nio.file.Files.list(root)) {
            dirs.filter(d -> java.nio.file.Files.isRegularFile(d.resolve(DiskDirectoryLock.LOCK_FILE))
                            && !java.nio.file.Files.exists(d.resolve(DiskIdentityRecord.FILE_NAME)))
                    .forEach(d -> stale.add(d.getFileName().toString()));
        } catch (java.io.IOException | RuntimeException e) {
            return; // the root may not exist yet; this is advice, never a failure
        }
        if (!stale.isEmpty()) {
            LOG.warn("disk tier root {}: {} directories of an earlier lmcache4j build (no {} record) are never used again"
                    + " and count against no budget; delete them to reclaim the space: {}", root, stale.size(),
                    DiskIdentityRecord.FILE_NAME, stale);
        }
    }

    /**
     * KV on disk or in a shared store outlives the process that computed it, so it must say which weights
     * computed it: without a model id, a base model and its fine-tune (same layout) would be served each
     * other's KV with every check passing.
     */
    private static void requireModelIdForSharedTiers(LmCacheConfig config) {
        if (config.hasModelId() || (config.localDisk().isEmpty() && config.remoteUrl().isEmpty())) {
            return;
        }
        String tiers = config.localDisk().map(d -> "a disk tier at " + d).orElse("")
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
