package org.lmcache4j.storage.cpu;

import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.testing.StorageTierContract;

/** The cpu tier passes the StorageTier contract; each chunk is charged one whole page. */
class CpuTierContractTest extends StorageTierContract {

    @Override
    protected StorageTier newTier(long capacityBytes) {
        return new CpuTier(capacityBytes, chunkBytes());
    }

    @Override
    protected long chargedBytes(long payloadBytes) {
        return chunkBytes(); // 64 KiB chunks: one 64 KiB page each, whatever the payload
    }
}
