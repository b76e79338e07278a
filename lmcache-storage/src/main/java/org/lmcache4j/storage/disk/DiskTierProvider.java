package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTierProvider;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.api.spi.TierRefusedException;
import org.lmcache4j.api.spi.TierUnavailableException;
import org.lmcache4j.storage.tier.TierCodec;
import org.lmcache4j.storage.tier.TierUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the disk tier from {@code file:///root[?capacity=20g][&codec=shuffle+zstd]}: chunk files in the identity's own
 * subdirectory of {@code root} ({@link CacheIdentity#directoryName()}), within {@code capacity} bytes or else
 * {@link TierOptions#localDiskBytes()}, written through the named {@link TierCodec} (raw by default). A directory another connector holds, or one holding KV of another
 * identity, is reported as {@link TierUnavailableException} / {@link TierRefusedException}, so the
 * connector runs without the tier.
 */
public final class DiskTierProvider implements StorageTierProvider {

    private static final Logger LOG = LoggerFactory.getLogger(DiskTierProvider.class);

    /** The scheme of disk tier URLs. */
    public static final String SCHEME = "file";

    /** For {@link java.util.ServiceLoader}. */
    public DiskTierProvider() {
    }

    @Override
    public Set<String> schemes() {
        return Set.of(SCHEME);
    }

    @Override
    public StorageTier open(String url, CacheIdentity identity, TierOptions options) {
        TierUrl parsed = TierUrl.parse(url, SCHEME, Set.of("capacity", TierCodec.URL_OPTION));
        TierCodec codec = TierCodec.forTier(url, parsed.options().get(TierCodec.URL_OPTION), options.layout())
                .withMaxLogicalBytes(options.chunkBytes());
        Path root = parsed.directory();
        long capacity = parsed.bytes("capacity", options.localDiskBytes(), 1);
        if (capacity <= 0) {
            throw new IllegalArgumentException("maxLocalDiskBytes: " + capacity + " (expected: > 0 when localDisk is set to "
                    + root + ")");
        }
        warnAboutUnrecordedDirectories(root);
        try {
            return new DiskTier(root.resolve(identity.directoryName()), capacity, identity, codec);
        } catch (DiskDirectoryBusyException e) {
            throw new TierUnavailableException(DiskTier.NAME, e.getMessage(), e);
        } catch (IdentityMismatchException e) {
            throw new TierRefusedException(DiskTier.NAME, e.getMessage(), e);
        }
    }

    /**
     * Logs, once per open, the namespace directories under {@code root} that hold a disk tier's lock file
     * but no identity record: written by a build before identities were recorded (its directory names did
     * not include the chunk size and hash), never read again and in no budget: the operator may delete them.
     */
    private static void warnAboutUnrecordedDirectories(Path root) {
        List<String> stale = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            dirs.filter(d -> Files.isRegularFile(d.resolve(DiskDirectoryLock.LOCK_FILE))
                            && !Files.exists(d.resolve(DiskIdentityRecord.FILE_NAME)))
                    .forEach(d -> stale.add(d.getFileName().toString()));
        } catch (IOException | RuntimeException e) {
            return; // the root may not exist yet; this is advice, never a failure
        }
        if (!stale.isEmpty()) {
            LOG.warn("disk tier root {}: {} directories of an earlier lmcache4j build (no {} record) are never used again"
                    + " and count against no budget; delete them to reclaim the space: {}", root, stale.size(),
                    DiskIdentityRecord.FILE_NAME, stale);
        }
    }
}
