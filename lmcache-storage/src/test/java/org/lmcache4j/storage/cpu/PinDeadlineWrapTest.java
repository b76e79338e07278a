package org.lmcache4j.storage.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Regression (found by {@link CpuTierModelPropertyTest}): of two nested pins, the later deadline was
 * taken with {@code Math.max}, which picks the earlier one when the later has wrapped past
 * {@code Long.MAX_VALUE}. {@code System.nanoTime()} values may wrap; only their differences count. The
 * chunk lost its protection early and could be evicted between a lookup and its retrieve.
 */
class PinDeadlineWrapTest {

    private static final long NEAR_WRAP = Long.MAX_VALUE - 10;

    @Test
    void aCpuPinWhoseDeadlineWrapsOutlastsAShorterOne() {
        long[] now = {NEAR_WRAP};
        try (CpuTier tier = new CpuTier(4096, 4096, false, () -> now[0], EvictionListener.NONE)) {
            assertTrue(tier.put(key(1), MemorySegment.ofArray(new byte[8])));
            assertTrue(tier.pin(key(1), Duration.ofNanos(100))); // deadline past the wrap
            assertTrue(tier.pin(key(1), Duration.ofNanos(5))); // deadline before it
            now[0] += 50; // the first pin has 50 ns left
            assertFalse(tier.put(key(2), MemorySegment.ofArray(new byte[8])), "the only page is pinned");
            assertTrue(tier.contains(key(1)));
        }
    }
}
