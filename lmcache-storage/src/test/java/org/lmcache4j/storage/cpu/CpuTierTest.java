package org.lmcache4j.storage.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.lmcache4j.testing.StorageTierContract;

/** What the contract cannot see: the cpu tier's page accounting on failure paths. */
class CpuTierTest {

    @Test
    void aPutWhosePayloadFailsToCopyLeaksNoPage() {
        // regression: the reserved page was never released when the copy threw
        try (CpuTier tier = new CpuTier(4 * 4096, 4096)) {
            Arena gone = Arena.ofConfined();
            MemorySegment payload = gone.allocate(4096);
            gone.close();
            assertThrows(IllegalStateException.class, () -> tier.put(StorageTierContract.key(1), payload));
            assertEquals(0, tier.outstandingPages());
            assertEquals(0, tier.stats().chunks());
        }
    }
}
