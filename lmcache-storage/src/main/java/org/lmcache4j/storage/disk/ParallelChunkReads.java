package org.lmcache4j.storage.disk;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Reads the chunks of one batch ({@link DiskTier#readAllInto}) on up to {@value #READERS} threads at once:
 * the caller and daemon threads shared by every disk tier of the JVM, each claiming the next chunk and
 * reading it whole (checksum and decode included), so that while one thread checksums or decodes a chunk
 * the others keep requests in flight, and a chunk's reads start while the one before it is still being
 * finished. A helper that is busy with another batch joins late or not at all: the caller reads what
 * nobody claimed.
 *
 * <p>Why: a retrieve read chunk after chunk, each with at most two requests in flight, and a chunk's
 * decode ran while no read was in flight. Reading four chunks at a time off a cold page cache (this
 * machine kind's virtio disk, {@code O_DIRECT}) moved the same bytes faster in scratch probes, raw and
 * encoded alike, as an encoded chunk's decode then overlaps the other chunks' reads; the bench figures,
 * which did not move as much, are in docs/PERFORMANCE.md ("KV codecs").
 */
final class ParallelChunkReads {

    /** Chunks read at once, the caller's included. */
    static final int READERS = 4;

    /** Reads chunk {@code i} of a batch: its length, or -1 on a miss. */
    @FunctionalInterface
    interface ChunkRead {
        long read(int i);
    }

    private static final ExecutorService HELPERS = Executors.newFixedThreadPool(READERS - 1,
            Thread.ofPlatform().daemon().name("lmcache-disk-read-", 0).factory());

    private final ChunkRead read;
    private final long[] lengths;
    private final Thread owner = Thread.currentThread();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger active = new AtomicInteger(); // helpers inside help()
    private volatile boolean ended; // the owner no longer waits for helpers that have not started
    private final AtomicReference<Throwable> failure = new AtomicReference<>(); // the first failure, on any thread

    private ParallelChunkReads(int count, ChunkRead read) {
        this.read = read;
        this.lengths = new long[count];
    }

    /**
     * Element {@code i} is {@code read.read(i)}, for every {@code i < count}, read on up to {@value #READERS}
     * threads. Returns once no other thread reads for this batch any more. The first failure is thrown (its
     * chunks after it may be unread).
     */
    static long[] readAll(int count, ChunkRead read) {
        ParallelChunkReads batch = new ParallelChunkReads(count, read);
        try {
            for (int h = 0; h < Math.min(READERS - 1, count - 1); h++) {
                HELPERS.execute(batch::help); // may fail (no thread could be started): the helpers started are awaited
            }
            batch.work();
        } finally {
            batch.awaitHelpers();
        }
        Throwable f = batch.failure.get();
        if (f instanceof RuntimeException e) {
            throw e;
        } else if (f instanceof Error e) {
            throw e;
        }
        return batch.lengths;
    }

    private void help() {
        active.incrementAndGet();
        try {
            if (!ended) {
                work();
            }
        } finally {
            active.decrementAndGet();
            LockSupport.unpark(owner);
        }
    }

    private void work() {
        for (int i; failure.get() == null && (i = next.getAndIncrement()) < lengths.length; ) {
            try {
                lengths[i] = read.read(i);
            } catch (RuntimeException | Error e) {
                if (!failure.compareAndSet(null, e)) {
                    failure.get().addSuppressed(e);
                }
            }
        }
    }

    /**
     * Waits until every helper that started on this batch has left it (at most one chunk read each); later ones
     * leave at once. An interrupt does not end the wait (the helpers may still write the caller's targets): it is
     * cleared while parked, so the wait does not spin, and set again before this returns.
     */
    private void awaitHelpers() {
        ended = true; // written before active is read, as help() writes active before it reads ended
        boolean interrupted = false;
        while (active.get() > 0) {
            interrupted |= Thread.interrupted();
            // a helper unparks the owner as it leaves: the timeout only bounds a lost wake-up
            LockSupport.parkNanos(this, 1_000_000);
        }
        if (interrupted || Thread.interrupted()) {
            Thread.currentThread().interrupt();
        }
    }
}
