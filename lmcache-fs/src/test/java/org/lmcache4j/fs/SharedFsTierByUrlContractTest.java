package org.lmcache4j.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.testing.StorageTierContract;

/**
 * The fs tier opened through the provider lookup by its URL ({@code fs://} and {@code shared+file://} in
 * turn), as a connector opens it, passes the StorageTier contract in one engine; its files go to the
 * identity's subdirectory of the URL's directory. A sweep every 50 ms runs beside every test: it must
 * change nothing while this engine is the only writer.
 */
class SharedFsTierByUrlContractTest extends StorageTierContract {

    @TempDir
    Path dir;

    private int tiers;

    @Override
    protected StorageTier newTier(long capacityBytes) {
        Path root = dir.resolve("root " + tiers); // a space: the URL is percent-encoded
        String scheme = tiers++ % 2 == 0 ? "fs://" : "shared+file://";
        return FsTiers.open(scheme + root.toUri().getRawPath() + "?capacity=" + capacityBytes + "&sweepMillis=50", chunkBytes());
    }

    @Override
    protected long chargedBytes(long payloadBytes) {
        return DiskChunkFormat.fileBytes(payloadBytes);
    }

    @Test
    void theProviderOfTheFsSchemeOpensTheTierInTheIdentitysDirectory() {
        StorageTier t = tier();
        assertEquals(SharedFsTier.NAME, t.name());
        Path own = dir.resolve("root 0").resolve(FsTiers.IDENTITY.directoryName());
        assertEquals(own, ((SharedFsTier) t).directory());
        assertTrue(Files.isRegularFile(own.resolve(SharedIdentityRecord.FILE_NAME)), "identity record");
    }
}
