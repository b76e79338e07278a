package org.lmcache4j.storage.tier;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NestedPinsTest {

    @Test
    void nestedPinsHoldUntilTheLatestDeadlineOrTheLastUnpin() {
        NestedPins pins = new NestedPins();
        assertFalse(pins.pinned(0));
        pins.pin(0, 100);
        pins.pin(10, 50); // an earlier deadline does not shorten the pin
        assertTrue(pins.pinned(99));
        assertFalse(pins.pinned(100), "lapsed at the latest deadline");
        pins.pin(200, 300); // lapsed pins are dropped: one pin now
        pins.unpin();
        assertFalse(pins.pinned(201), "the one pin was released");
        pins.unpin(); // more unpins than pins: harmless
        assertFalse(pins.pinned(201));
    }

    @Test
    void deadlinesAreComparedByDifferenceSoTheyMayWrap() {
        NestedPins pins = new NestedPins();
        long now = Long.MAX_VALUE - 10;
        pins.pin(now, now + 20); // wraps to a negative value
        assertTrue(pins.pinned(now + 15));
        assertFalse(pins.pinned(now + 20));
    }
}
