package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.testing.StorageTierContract;

/**
 * The disk tier opened through its provider by a {@code file://} URL passes the StorageTier contract; its
 * files go to the identity's own subdirectory of the URL's directory.
 */
class DiskTierByUrlContractTest extends StorageTierContract {

    @TempDir
    Path dir;

    private int tiers;

    @Override
    protected StorageTier newTier(long capacityBytes) {
        Path root = dir.resolve("root " + tiers++); // a space: the URL is percent-encoded
        return TierUrls.open(root.toUri() + "?capacity=" + capacityBytes, chunkBytes());
    }

    @Override
    protected long chargedBytes(long payloadBytes) {
        return DiskChunkFormat.fileBytes(payloadBytes);
    }

    @Test
    void theProviderOfTheFileSchemeOpensTheDiskTierInTheIdentitysDirectory() {
        assertInstanceOf(DiskTier.class, tier());
        assertTrue(Files.isDirectory(dir.resolve("root 0").resolve(TierUrls.IDENTITY.directoryName())));
    }
}
