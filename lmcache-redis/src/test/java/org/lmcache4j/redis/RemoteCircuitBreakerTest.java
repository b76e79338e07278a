package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The breaker opens after N failures in a row, refuses while open, lets one probe through, and closes on success. */
class RemoteCircuitBreakerTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final RemoteCircuitBreaker breaker = new RemoteCircuitBreaker(3, 500_000_000L, now::get);

    @Test
    void opensAfterConsecutiveFailuresOnly() {
        assertTrue(breaker.tryAcquire());
        assertNull(breaker.failed());
        assertNull(breaker.failed());
        assertFalse(breaker.succeeded(), "a success while closed is no recovery");
        assertNull(breaker.failed());
        assertNull(breaker.failed(), "the success reset the count");
        assertEquals(RemoteCircuitBreaker.State.CLOSED, breaker.state());
        assertEquals(RemoteCircuitBreaker.State.CLOSED, breaker.failed(), "third failure in a row opens it");
        assertEquals(RemoteCircuitBreaker.State.OPEN, breaker.state());
        assertFalse(breaker.tryAcquire(), "open: refused");
        assertEquals(500, breaker.remainingOpenMillis());
        assertEquals(1, breaker.timesOpened());
    }

    @Test
    void halfOpenProbeClosesOrReopens() {
        for (int i = 0; i < 3; i++) {
            breaker.failed();
        }
        now.addAndGet(499_000_000L);
        assertFalse(breaker.tryAcquire(), "still open");
        now.addAndGet(1_000_000L);
        assertTrue(breaker.tryAcquire(), "due: this call is the probe");
        assertEquals(RemoteCircuitBreaker.State.HALF_OPEN, breaker.state());
        assertFalse(breaker.tryAcquire(), "one probe at a time");
        assertEquals(RemoteCircuitBreaker.State.HALF_OPEN, breaker.failed(), "a failed probe opens it again");
        assertFalse(breaker.tryAcquire());
        now.addAndGet(500_000_000L);
        assertTrue(breaker.tryAcquire());
        assertTrue(breaker.succeeded(), "a successful probe closes it");
        assertEquals(RemoteCircuitBreaker.State.CLOSED, breaker.state());
        assertTrue(breaker.tryAcquire());
        assertEquals(0, breaker.consecutiveFailures());
        assertEquals(2, breaker.timesOpened());
    }

    @Test
    void aReleasedCallCountsNeitherWayAndPassesTheProbeOn() {
        breaker.failed();
        breaker.failed();
        assertTrue(breaker.tryAcquire());
        breaker.released();
        assertEquals(2, breaker.consecutiveFailures(), "no success reset the count");
        assertEquals(RemoteCircuitBreaker.State.CLOSED, breaker.state(), "no failure opened it");
        breaker.failed();
        now.addAndGet(500_000_000L);
        assertTrue(breaker.tryAcquire(), "the probe");
        breaker.released();
        assertEquals(RemoteCircuitBreaker.State.OPEN, breaker.state(), "a probe without a verdict closes nothing");
        assertTrue(breaker.tryAcquire(), "the next call probes at once");
        assertTrue(breaker.succeeded());
    }

    @Test
    void lateFailureOfAnEarlierCallDoesNotExtendTheOpenInterval() {
        for (int i = 0; i < 3; i++) {
            breaker.failed();
        }
        now.addAndGet(400_000_000L);
        assertNull(breaker.failed(), "already open");
        now.addAndGet(100_000_000L);
        assertTrue(breaker.tryAcquire(), "the probe is due 500 ms after opening, not after the late failure");
    }
}
