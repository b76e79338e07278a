package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * {@link ParallelChunkReads}: every chunk of a batch read exactly once with its result in its place, reads
 * of several chunks under way at once, a failure thrown to the caller, and nothing reading for the batch
 * once {@code readAll} has returned or thrown.
 */
class ParallelChunkReadsTest {

    /** Times the interrupt test's helper looks at the waiting caller. */
    private static final int SAMPLES = 100;

    @Test
    void everyChunkIsReadOnceAndItsLengthLandsInItsPlace() {
        ConcurrentHashMap<Integer, AtomicInteger> reads = new ConcurrentHashMap<>();
        long[] n = ParallelChunkReads.readAll(40, i -> {
            reads.computeIfAbsent(i, k -> new AtomicInteger()).incrementAndGet();
            return i % 7 == 3 ? -1 : 1000L + i;
        });
        long[] expected = new long[40];
        for (int i = 0; i < 40; i++) {
            expected[i] = i % 7 == 3 ? -1 : 1000L + i;
            assertEquals(1, reads.get(i).get(), "reads of chunk " + i);
        }
        assertArrayEquals(expected, n);
    }

    @Test
    void severalChunksAreReadAtOnce() {
        CountDownLatch together = new CountDownLatch(ParallelChunkReads.READERS);
        long[] n = ParallelChunkReads.readAll(ParallelChunkReads.READERS, i -> {
            together.countDown();
            try {
                // each read waits until every reader is inside one: they pass only if they run at the same time
                return together.await(10, TimeUnit.SECONDS) ? i : -2;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        for (int i = 0; i < n.length; i++) {
            assertEquals(i, n[i], "chunk " + i + " (-2: its reader waited alone for the others)");
        }
    }

    @Test
    void aFailureIsThrownOnlyOnceNoOtherReadIsUnderWay() {
        IllegalStateException boom = new IllegalStateException("chunk 2 failed");
        AtomicInteger inside = new AtomicInteger();
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> ParallelChunkReads.readAll(12, i -> {
            inside.incrementAndGet();
            try {
                if (i == 2) {
                    throw boom;
                }
                Thread.sleep(20); // still reading when the failure happens
                return i;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                inside.decrementAndGet();
            }
        }));
        assertSame(boom, thrown);
        assertEquals(0, inside.get(), "reads still under way after readAll threw");
    }

    @Test
    void aBatchOfOneIsReadOnTheCallersThread() {
        Thread caller = Thread.currentThread();
        long[] n = ParallelChunkReads.readAll(1, i -> Thread.currentThread() == caller ? 5 : -5);
        assertArrayEquals(new long[] {5}, n);
        assertTrue(ParallelChunkReads.readAll(0, i -> 1).length == 0, "an empty batch");
    }

    @Test
    void anInterruptedCallerWaitsForTheHelpersParkedAndKeepsItsInterrupt() {
        CountDownLatch helperInside = new CountDownLatch(1);
        CountDownLatch callerWaits = new CountDownLatch(1);
        Thread caller = Thread.currentThread();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger parkedSamples = new AtomicInteger();
        long[] n = ParallelChunkReads.readAll(2, i -> {
            if (Thread.currentThread() == caller) {
                await(helperInside);
                caller.interrupt(); // the caller is interrupted while the helper still reads
                callerWaits.countDown();
                return i;
            }
            inside.incrementAndGet();
            helperInside.countDown();
            await(callerWaits);
            for (int s = 0; s < SAMPLES; s++) { // a slow read, while the caller waits for it
                LockSupport.parkNanos(2_000_000);
                if (caller.getState() == Thread.State.TIMED_WAITING) {
                    parkedSamples.incrementAndGet();
                }
            }
            inside.decrementAndGet();
            return i;
        });
        assertTrue(Thread.interrupted(), "the caller's interrupt is kept (and cleared here)");
        assertArrayEquals(new long[] {0, 1}, n);
        assertEquals(0, inside.get(), "the helper's read was over when readAll returned");
        assertTrue(parkedSamples.get() >= SAMPLES * 9 / 10, "the caller was parked in " + parkedSamples.get() + " of " + SAMPLES
                + " samples (spinning: runnable in nearly all)");
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS), "the other reader did not arrive");
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
