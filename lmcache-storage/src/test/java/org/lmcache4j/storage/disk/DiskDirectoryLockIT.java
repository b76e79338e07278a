package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.lmcache4j.storage.disk.DiskTierTest.FINGERPRINT;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.storage.engine.Engines;

/**
 * A disk tier's directory stays locked against other processes while it is held, whatever other tiers
 * of the same JVM try: a child JVM ({@link DiskTierChild}'s {@code lock} mode) reports whether it could
 * lock the directory. Regression: a second tier of the same JVM, refused, closed its own channel on the
 * lock file, which dropped the first tier's lock (POSIX locks belong to the process and go with any of
 * its descriptors of the file), and a process started then opened the directory as its own.
 */
class DiskDirectoryLockIT {

    private static final long CHILD_SECONDS = 60;
    private static final long CAPACITY_BYTES = 1L << 24;

    @TempDir
    Path dir;

    private static String childLocks(Path directory) throws Exception {
        List<String> out = DiskTierChild.run(CHILD_SECONDS, "lock", directory.toString());
        assertEquals(1, out.size(), "lines of the child's output: " + out);
        return out.getFirst();
    }

    @Test
    void aRefusedSecondTierLeavesTheDirectoryLockedForOtherProcesses() throws Exception {
        try (DiskTier _ = new DiskTier(dir, CAPACITY_BYTES, FINGERPRINT)) {
            assertThrows(DiskDirectoryBusyException.class, () -> new DiskTier(dir, CAPACITY_BYTES, FINGERPRINT));
            assertEquals("busy", childLocks(dir), "another process, while the first tier holds the directory");
        }
    }

    @Test
    void aReplicaConnectorWithoutDiskLeavesTheDirectoryLockedForOtherProcesses() throws Exception {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * Engines.CHUNK_BYTES).build();
        Path tierDir = dir.resolve(config.identity(Engines.SMALL).directoryName());
        try (KvConnector first = KvConnectors.open(config, Engines.SMALL);
             KvConnector replica = KvConnectors.open(config, Engines.SMALL)) {
            assertEquals(2, first.stats().tiers().size(), "the first connector: cpu and disk");
            assertEquals(1, replica.stats().tiers().size(), "the replica runs without disk");
            assertEquals("busy", childLocks(tierDir), "another process, while the first connector holds the directory");
        }
        assertEquals("locked", childLocks(tierDir), "another process, once both connectors closed");
    }

    @Test
    void aSymlinkOrDotDotPathIsTheSameDirectory() throws Exception {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        Path dotDot = dir.resolve("real").resolve("..").resolve("real");
        try (DiskTier _ = new DiskTier(real, CAPACITY_BYTES, FINGERPRINT)) {
            assertThrows(DiskDirectoryBusyException.class, () -> new DiskTier(link, CAPACITY_BYTES, FINGERPRINT));
            assertThrows(DiskDirectoryBusyException.class, () -> new DiskTier(dotDot, CAPACITY_BYTES, FINGERPRINT));
            assertEquals("busy", childLocks(link), "another process, through the link");
            assertEquals("busy", childLocks(real), "another process, through the real path");
        }
        try (DiskTier _ = new DiskTier(link, CAPACITY_BYTES, FINGERPRINT)) {
            assertThrows(DiskDirectoryBusyException.class, () -> new DiskTier(real, CAPACITY_BYTES, FINGERPRINT));
            assertEquals("busy", childLocks(real), "another process, while the link's tier holds the directory");
        }
    }

    @Test
    void aClosedHolderFreesTheDirectoryForThisJvmAndOtherProcesses() throws Exception {
        DiskTier first = new DiskTier(dir, CAPACITY_BYTES, FINGERPRINT);
        assertThrows(DiskDirectoryBusyException.class, () -> new DiskTier(dir, CAPACITY_BYTES, FINGERPRINT));
        first.close();
        assertEquals("locked", childLocks(dir), "another process, once the holder closed");
        try (DiskTier _ = new DiskTier(dir, CAPACITY_BYTES, FINGERPRINT)) {
            assertEquals("busy", childLocks(dir), "another process, while a new tier of this JVM holds the directory");
            first.close(); // idempotent: frees nothing of the new holder's
            assertThrows(DiskDirectoryBusyException.class, () -> new DiskTier(dir, CAPACITY_BYTES, FINGERPRINT));
            assertEquals("busy", childLocks(dir), "another process, after the old holder closed again");
        }
        assertEquals("locked", childLocks(dir), "another process, once every tier closed");
    }
}
