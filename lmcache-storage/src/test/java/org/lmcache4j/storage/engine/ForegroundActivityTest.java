package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Background writers wait for foreground calls, but only for a bounded time. */
class ForegroundActivityTest {

    @Test
    void aQuietConnectorDoesNotMakeWritersWait() {
        assertFalse(new ForegroundActivity().awaitQuiet(1_000_000_000L));
    }

    @Test
    void aWriterWaitsUntilTheCallEnds() throws Exception {
        ForegroundActivity f = new ForegroundActivity();
        f.begin();
        CountDownLatch waited = new CountDownLatch(1);
        Thread writer = Thread.ofPlatform().start(() -> {
            if (f.awaitQuiet(TimeUnit.SECONDS.toNanos(30))) {
                waited.countDown();
            }
        });
        assertFalse(waited.await(100, TimeUnit.MILLISECONDS), "still waiting while the call runs");
        f.end();
        assertTrue(waited.await(10, TimeUnit.SECONDS), "goes on once it ends");
        writer.join();
    }

    @Test
    void aWriterNeverWaitsLongerThanItsBound() {
        ForegroundActivity f = new ForegroundActivity();
        f.begin(); // never ends
        long start = System.nanoTime();
        assertTrue(f.awaitQuiet(TimeUnit.MILLISECONDS.toNanos(50)));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "bounded");
        assertTrue(f.busy());
    }
}
