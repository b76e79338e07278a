package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Regression (found by {@code CpuTierModelPropertyTest}, the disk half of {@code PinDeadlineWrapTest}): of two
 * nested pins, the later deadline was taken with {@code Math.max}, which picks the earlier one when the later
 * has wrapped past {@code Long.MAX_VALUE}. {@code System.nanoTime()} values may wrap; only their differences
 * count. The chunk lost its protection early and could be evicted between a lookup and its retrieve.
 */
class DiskPinDeadlineWrapTest {

    private static final long NEAR_WRAP = Long.MAX_VALUE - 10;

    @Test
    void aDiskPinWhoseDeadlineWrapsOutlastsAShorterOne() {
        long[] now = {NEAR_WRAP};
        DiskIndex index = new DiskIndex(100, () -> now[0]);
        index.load(key(1), 100);
        assertTrue(index.pin(key(1), Duration.ofNanos(100)));
        assertTrue(index.pin(key(1), Duration.ofNanos(5)));
        now[0] += 50;
        assertInstanceOf(DiskIndex.Admission.Refused.class, index.admit(key(2), 100), "the only chunk is pinned");
        assertTrue(index.contains(key(1)));
    }
}
