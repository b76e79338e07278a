package org.lmcache4j.storage.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Copy lanes: every index runs exactly once, a failure is rethrown to the caller, and a caller whose
 * helper is busy elsewhere does all the work itself instead of waiting for the helper.
 */
class CopyLanesTest {

    @Test
    void everyIndexRunsExactlyOnceOverTheLanes() {
        try (CopyLanes lanes = new CopyLanes(3, 0)) {
            for (int tasks = 0; tasks < 200; tasks += 7) {
                AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                lanes.forEach(tasks, 1, runs::incrementAndGet);
                for (int i = 0; i < tasks; i++) {
                    assertEquals(1, runs.get(i), "index " + i + " of " + tasks);
                }
            }
        }
    }

    @Test
    void aFailingIndexIsRethrownToTheCaller() {
        IllegalStateException boom = new IllegalStateException("copy 17 failed");
        try (CopyLanes lanes = new CopyLanes(2, 0)) {
            for (int trial = 0; trial < 20; trial++) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> lanes.forEach(64, 1, i -> {
                    if (i == 17) {
                        throw boom;
                    }
                }));
                assertSame(boom, e, "the failure itself, from whichever thread ran index 17");
            }
            AtomicIntegerArray runs = new AtomicIntegerArray(8);
            lanes.forEach(8, 1, runs::incrementAndGet); // the lanes still work
            assertEquals(8, runs.length());
        }
    }

    @Test
    @Timeout(60) // with fixed shares the caller waited for the busy helper until it was released: forever here
    void aCallerWhoseHelperIsBusyDoesEverythingItselfWithoutWaiting() throws Exception {
        try (CopyLanes lanes = new CopyLanes(2, 0)) {
            CountDownLatch helperHeld = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread other = Thread.ofPlatform().start(() -> lanes.forEach(2, 1, i -> { // one index each: the helper blocks in its own
                try {
                    if (Thread.currentThread().getName().startsWith("lmcache-copy-")) {
                        helperHeld.countDown();
                        release.await();
                    } else {
                        helperHeld.await(); // holds the caller's index until the helper has claimed the other one
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertTrue(helperHeld.await(30, TimeUnit.SECONDS), "the other caller's share occupies the only helper");
            Set<Thread> ran = ConcurrentHashMap.newKeySet();
            lanes.forEach(10, 1, i -> ran.add(Thread.currentThread())); // would wait for the busy helper if shares were fixed
            assertEquals(Set.of(Thread.currentThread()), ran, "every index on the caller's thread");
            release.countDown();
            other.join();
        }
    }
}
