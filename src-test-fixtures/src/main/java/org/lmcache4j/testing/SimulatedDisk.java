package org.lmcache4j.testing;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The space of a simulated disk that {@link FaultyFileChannel}s write to: it fills up after a set number
 * of bytes ({@code "No space left on device"}, the last write partly done, as a real disk does), and it
 * measures the bytes in files (written minus deleted) and their maximum, to check a budget on disk.
 * Thread-safe; switches may be flipped at any time.
 */
public final class SimulatedDisk {

    private final AtomicLong writableBytes = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong maxLiveBytes = new AtomicLong();
    private final AtomicLong injectedFailures = new AtomicLong();

    /** From now on, writes fail once {@code bytes} more have been written. */
    public SimulatedDisk fullAfter(long bytes) {
        writableBytes.set(bytes);
        return this;
    }

    /** Writes succeed again. */
    public SimulatedDisk freed() {
        writableBytes.set(Long.MAX_VALUE);
        return this;
    }

    /** The largest number of bytes in files at any moment (written minus deleted). */
    public long maxLiveBytes() {
        return maxLiveBytes.get();
    }

    /** Failures injected so far (by this disk and by callers through {@link #countFailure()}). */
    public long injectedFailures() {
        return injectedFailures.get();
    }

    /** Counts a failure injected by a caller (a read-only or failing file system). */
    public void countFailure() {
        injectedFailures.incrementAndGet();
    }

    /** Records that a file of {@code bytes} was deleted. */
    public void deleted(long bytes) {
        liveBytes.addAndGet(-bytes); // after the deletion: the measure never runs below the truth
    }

    /** Takes room for a write of {@code wanted} bytes; returns how many fit (less when the disk fills). */
    long reserve(int wanted) {
        long before = writableBytes.getAndAccumulate(wanted, (left, n) -> left == Long.MAX_VALUE ? left : Math.max(0, left - n));
        int allowed = (int) Math.min(wanted, before);
        if (allowed > 0) {
            maxLiveBytes.accumulateAndGet(liveBytes.addAndGet(allowed), Math::max); // before the write: never below the truth
        }
        return allowed;
    }

    /** Returns room reserved but not written (a short write). */
    void unwritten(long bytes) {
        liveBytes.addAndGet(-bytes);
    }
}
