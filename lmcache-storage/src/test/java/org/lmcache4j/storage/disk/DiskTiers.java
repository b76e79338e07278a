package org.lmcache4j.storage.disk;

import java.nio.file.Path;
import java.util.function.LongSupplier;
import org.lmcache4j.api.spi.StorageTier;

/**
 * Disk tiers for the engine's tests, opened as a connector's config would not open them (a test's clock,
 * injected faults), handed out as plain {@link StorageTier}s: the engine knows the disk tier only through the
 * SPI, so its tests need no more and the disk tier's classes stay private to this package.
 */
public final class DiskTiers {

    /** The disk tier's name in stats, events and miss reasons. */
    public static final String NAME = DiskTier.NAME;
    /** The file in a tier's directory that records the identity of its KV. */
    public static final String IDENTITY_FILE = DiskIdentityRecord.FILE_NAME;

    private DiskTiers() {
    }

    /** A disk tier on the system clock, without fsync. */
    public static StorageTier open(Path directory, long capacityBytes, String layoutFingerprint) {
        return new DiskTier(directory, capacityBytes, layoutFingerprint);
    }

    /** A disk tier on {@code nanoClock}, on the real file system. */
    public static StorageTier open(Path directory, long capacityBytes, String layoutFingerprint, boolean fsync,
                                   LongSupplier nanoClock) {
        return new DiskTier(directory, capacityBytes, layoutFingerprint, fsync, nanoClock, FileSystemDiskIo.INSTANCE);
    }

    /** A disk tier whose file system calls go through {@code io} (faults injected). */
    public static StorageTier open(Path directory, long capacityBytes, String layoutFingerprint, boolean fsync,
                                   LongSupplier nanoClock, FaultyDiskIo io) {
        return new DiskTier(directory, capacityBytes, layoutFingerprint, fsync, nanoClock, io);
    }
}
