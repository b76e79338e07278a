package org.lmcache4j.testing;

import org.lmcache4j.api.spi.StorageTier;

/** Runs the {@link StorageTierContract} against the reference {@link HeapMapTier}. */
class HeapMapTierContractTest extends StorageTierContract {

    @Override
    protected StorageTier newTier(long capacityBytes) {
        return new HeapMapTier(capacityBytes);
    }
}
