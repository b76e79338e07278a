package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lmcache4j.storage.cpu.CpuTier;

/** A tier's load-time estimate: measured, smoothed, and forgotten over time so a slow tier gets retried. */
class GuardedTierTest {

    @Test
    void theLoadEstimateHalvesEveryHalfLifeWithoutNewMeasurements() {
        try (CpuTier tier = new CpuTier(1 << 20, 4096)) {
            GuardedTier guard = new GuardedTier(tier);
            assertEquals(0, guard.estimateLoadNanos(1 << 20), "unmeasured: optimistic");
            guard.recordLoad(1 << 20, 1_000_000); // 1 MiB in 1 ms
            long now = System.nanoTime();
            long fresh = guard.estimateLoadNanos(1 << 20, now);
            assertTrue(fresh > 990_000 && fresh <= 1_000_000, "estimate " + fresh);
            long halfLife = GuardedTier.ESTIMATE_HALF_LIFE_SECONDS * 1_000_000_000L;
            assertEquals(fresh / 2, guard.estimateLoadNanos(1 << 20, now + halfLife), 1);
            assertEquals(0, guard.estimateLoadNanos(1 << 20, now + 64 * halfLife), "long unmeasured: tried again");
        }
    }
}
