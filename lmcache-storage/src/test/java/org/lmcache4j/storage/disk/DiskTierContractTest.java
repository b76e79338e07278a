package org.lmcache4j.storage.disk;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.testing.StorageTierContract;

/** The disk tier passes the StorageTier contract; each chunk is charged its file: header plus payload. */
class DiskTierContractTest extends StorageTierContract {

    static final String FINGERPRINT = "d4f6e32487754f6c";

    @TempDir
    Path dir;

    private int tiers;

    @Override
    protected StorageTier newTier(long capacityBytes) {
        return new DiskTier(dir.resolve("tier-" + tiers++), capacityBytes, FINGERPRINT); // fsync on, as deployed
    }

    @Override
    protected long chargedBytes(long payloadBytes) {
        return DiskChunkFormat.fileBytes(payloadBytes);
    }
}
