package org.lmcache4j.storage.cpu;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.disk.TierUrls;
import org.lmcache4j.testing.StorageTierContract;

/** The cpu tier opened through its provider by a {@code cpu://} URL passes the StorageTier contract. */
class CpuTierByUrlContractTest extends StorageTierContract {

    @Override
    protected StorageTier newTier(long capacityBytes) {
        return TierUrls.open("cpu://?capacity=" + capacityBytes, chunkBytes());
    }

    @Override
    protected long chargedBytes(long payloadBytes) {
        return chunkBytes();
    }

    @Test
    void theProviderOfTheCpuSchemeOpensTheCpuTier() {
        assertInstanceOf(CpuTier.class, tier());
    }
}
