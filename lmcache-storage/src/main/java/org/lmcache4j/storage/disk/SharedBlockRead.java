package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import java.util.zip.CRC32C;

/**
 * One chunk read into memory in blocks of equal size and checksummed, by its owner and, when one is
 * idle, a helper thread ({@link ReadHelpers}); the owner then combines the blocks' CRC32C into the
 * region's ({@link Crc32cCombine}). The result is the CRC32C of the whole region either way. How the two
 * share the work depends on where the file is, as {@link CacheGuess} judges from the last read:
 * <ul>
 *   <li>in the page cache, both claim the next block, read it and checksum it at once, while it is in
 *       their own core's cache: the copy out of the page cache and the checksum take both cores;</li>
 *   <li>on the device, the owner reads every block in order (one sequential stream, which the device and
 *       the kernel's read-ahead serve fastest) while the helper checksums the blocks already read, so
 *       the checksum hides behind the device's time.</li>
 * </ul>
 *
 * <p>Work is claimed a block at a time rather than split in halves: a helper that is slow to start (it
 * was parked, or its core is busy) then takes less, and one that never starts takes none; the owner
 * waits at most for the block the helper is on. {@link #readAndChecksum} returns only once the helper no
 * longer touches the region, whether the read succeeded or not, so the region may be freed after it.
 */
final class SharedBlockRead implements Runnable {

    /** Reads {@code [offset, offset + length)} of the source into the same range of the region. */
    @FunctionalInterface
    interface BlockSource {
        void read(long offset, long length) throws IOException;
    }

    /**
     * The speed, in bytes per microsecond, at or above which a block came from the page cache rather than
     * the device: 4 GB/s, under what a copy out of the page cache does (10-25 GB/s measured here) and over
     * what one request of a block to a local SSD does.
     */
    static final long CACHED_BYTES_PER_MICROSECOND = 4_000;

    /** How long a helper checksumming behind device reads spins for the next block before it naps. */
    static final long DEVICE_SPIN_NANOS = 20_000;
    /** One nap of that helper: a block read from the device takes longer. */
    static final long DEVICE_NAP_NANOS = 50_000;

    /** A thread that owns nothing: a region it may access is one any helper may access. */
    private static final Thread NOT_THE_OWNER = Thread.ofPlatform().unstarted(() -> { });

    private final MemorySegment region;
    private final long blockBytes;
    private final int blocks;
    private final BlockSource source;
    private final boolean cached; // how the work is shared: see the class comment
    private final int[] blockCrcs;
    private final AtomicInteger nextRead = new AtomicInteger(); // cached: the next block to read and checksum
    private final AtomicInteger nextCrc = new AtomicInteger(); // not cached: the next block to checksum
    private volatile int readEnd; // not cached: blocks [0, readEnd) are read (by the owner, in order)
    private final AtomicInteger done = new AtomicInteger(); // blocks checksummed (or failed), each written to blockCrcs first
    private volatile Throwable failure; // the first failure, on either thread; set before its block counts as done
    private volatile long firstReadNanos = -1; // how long the read of block 0 took, once it is read
    private final LongConsumer progress; // told the region's prefix read so far, or null
    private final boolean[] finished; // blocks read and checksummed, for the prefix (guarded by this)
    private int prefixBlocks; // blocks [0, prefixBlocks) finished (guarded by this)
    private final ReentrantLock progressLock = new ReentrantLock();

    private SharedBlockRead(MemorySegment region, long blockBytes, BlockSource source, boolean cached, LongConsumer progress) {
        this.progress = progress;
        this.region = region;
        this.blockBytes = blockBytes;
        this.blocks = Math.toIntExact((region.byteSize() + blockBytes - 1) / blockBytes);
        this.source = source;
        this.cached = cached;
        this.blockCrcs = new int[blocks];
        this.finished = progress == null ? null : new boolean[blocks];
    }

    /**
     * What the last read found: whether its first block came at page-cache speed
     * ({@link #CACHED_BYTES_PER_MICROSECOND}). One per reader of one file system, updated by every read.
     */
    static final class CacheGuess {
        private final long cachedBytesPerMicrosecond;
        private volatile boolean cached = true;

        CacheGuess() {
            this(CACHED_BYTES_PER_MICROSECOND);
        }

        /** @param cachedBytesPerMicrosecond the speed of a first block at which it counts as cached (0: always) */
        CacheGuess(long cachedBytesPerMicrosecond) {
            this.cachedBytesPerMicrosecond = cachedBytesPerMicrosecond;
        }

        boolean cached() {
            return cached;
        }

        /** Sets the guess from what was found out another way. */
        void cached(boolean cached) {
            this.cached = cached;
        }

        void firstBlock(long bytes, long nanos) {
            cached = bytes * 1000 / Math.max(1, nanos) >= cachedBytesPerMicrosecond;
        }
    }

    /**
     * Fills {@code region} from {@code source} block by block and returns its CRC32C, shared with a
     * helper as {@code guess} says (see the class comment), and tells {@code guess} how fast the first
     * block came. Why two ways (measured in scratch loops on 2 vCPUs): from the page cache two threads each
     * reading and checksumming beat one; from the device one sequential stream beat two interleaved ones.
     *
     * @param shared false to do everything on this thread (also when the region is confined to this thread)
     * @throws IOException the first failure of a block read, on either thread
     */
    static int readAndChecksum(MemorySegment region, long blockBytes, BlockSource source, boolean shared, CacheGuess guess)
            throws IOException {
        return readAndChecksum(region, blockBytes, source, shared, guess, null);
    }

    /**
     * As {@link #readAndChecksum(MemorySegment, long, BlockSource, boolean, CacheGuess)}, telling
     * {@code progress} (when not null) how long a prefix of the region is read, as blocks finish: on the
     * thread that finished one, one call at a time, skipped when a call is under way (a later one, or the
     * caller's own work after the read, covers it). A failure it throws fails the read.
     */
    static int readAndChecksum(MemorySegment region, long blockBytes, BlockSource source, boolean shared, CacheGuess guess,
                               LongConsumer progress) throws IOException {
        SharedBlockRead read = run(region, blockBytes, source, shared, guess.cached(), progress);
        if (read.firstReadNanos >= 0) {
            guess.firstBlock(Math.min(blockBytes, region.byteSize()), read.firstReadNanos);
        }
        return read.result();
    }

    /**
     * As {@link #readAndChecksum(MemorySegment, long, BlockSource, boolean, CacheGuess)}, the sharing chosen
     * by the caller: {@code claimBlocks} true for both threads reading and checksumming blocks they claim
     * (the page cache, or reads that bypass it and gain from two requests in flight), false for the owner
     * reading in order while the helper checksums behind it (buffered reads from the device).
     */
    static int readAndChecksum(MemorySegment region, long blockBytes, BlockSource source, boolean shared, boolean claimBlocks)
            throws IOException {
        return readAndChecksum(region, blockBytes, source, shared, claimBlocks, null);
    }

    /** As {@link #readAndChecksum(MemorySegment, long, BlockSource, boolean, boolean)}, with {@code progress} as above. */
    static int readAndChecksum(MemorySegment region, long blockBytes, BlockSource source, boolean shared, boolean claimBlocks,
                               LongConsumer progress) throws IOException {
        return run(region, blockBytes, source, shared, claimBlocks, progress).result();
    }

    private static SharedBlockRead run(MemorySegment region, long blockBytes, BlockSource source, boolean shared, boolean claimBlocks,
                                       LongConsumer progress) {
        if (blockBytes <= 0) {
            throw new IllegalArgumentException("blockBytes: " + blockBytes + " (expected: > 0)");
        }
        SharedBlockRead read = new SharedBlockRead(region, blockBytes, source, claimBlocks, progress);
        if (shared && read.blocks > 1 && region.isAccessibleBy(NOT_THE_OWNER)) {
            ReadHelpers.offer(read);
        }
        try {
            read.ownersPart();
        } catch (IOException | RuntimeException | Error e) {
            read.fail(e); // recorded already where it was thrown; result() throws it
        } finally {
            read.stopAndAwaitHelper();
        }
        return read;
    }

    /** The region's CRC32C, or the first failure of either thread. */
    private int result() throws IOException {
        Throwable f = failure;
        if (f instanceof IOException e) {
            throw e;
        } else if (f instanceof RuntimeException e) {
            throw e;
        } else if (f != null) {
            throw (Error) f;
        }
        return combined();
    }

    private void ownersPart() throws IOException {
        if (cached) {
            readAndChecksumClaimed();
            return;
        }
        try {
            for (int i = 0; i < blocks && failure == null; i++) {
                read(i);
                readEnd = i + 1;
            }
        } catch (IOException | RuntimeException | Error e) {
            fail(e);
            throw e;
        }
        checksumClaimed(); // what the helper has not taken
    }

    /** Run by a helper: takes blocks until none is left; a failure is handed to the owner. */
    @Override
    public void run() {
        try {
            if (cached) {
                readAndChecksumClaimed();
            } else {
                checksumClaimedOnceRead();
            }
        } catch (IOException | RuntimeException | Error e) {
            // recorded in failure for the owner, which stops too
        }
    }

    /** Cached: reads and checksums blocks, claimed one at a time, until none is left. */
    private void readAndChecksumClaimed() throws IOException {
        for (int i; failure == null && (i = nextRead.getAndIncrement()) < blocks; ) {
            try {
                read(i);
                checksum(i);
                finished(i);
            } catch (IOException | RuntimeException | Error e) {
                fail(e);
                throw e;
            } finally {
                done.incrementAndGet();
            }
        }
    }

    /** Not cached, on the owner once every block is read: checksums the blocks nobody has claimed. */
    private void checksumClaimed() {
        for (int i; failure == null && (i = nextCrc.getAndIncrement()) < blocks; ) {
            checksumCounted(i);
        }
    }

    /**
     * Not cached, on the helper: checksums each block as soon as the owner has read it, until all are
     * claimed. Between blocks it spins briefly, then sleeps in short naps: the device delivers a block every
     * 100 us or more, and a thread spinning that long on a 2-vCPU virtual machine took the time the reads'
     * completions needed (cold reads measured in a scratch loop: a spinning helper doubled their p90).
     */
    private void checksumClaimedOnceRead() {
        long idleSince = System.nanoTime();
        for (int spins = 1; failure == null; spins++) {
            int i = nextCrc.get();
            if (i >= blocks) {
                return;
            }
            if (i < readEnd) {
                if (nextCrc.compareAndSet(i, i + 1)) {
                    checksumCounted(i);
                }
                idleSince = System.nanoTime();
            } else if (System.nanoTime() - idleSince < DEVICE_SPIN_NANOS) {
                ReadHelpers.relax(spins);
            } else {
                LockSupport.parkNanos(DEVICE_NAP_NANOS);
            }
        }
    }

    private void checksumCounted(int i) {
        try {
            checksum(i);
            finished(i);
        } catch (RuntimeException | Error e) {
            fail(e);
            throw e;
        } finally {
            done.incrementAndGet();
        }
    }

    /** Block {@code i} is read and checksummed: tells {@link #progress} the prefix now read, unless a call is under way. */
    private void finished(int i) {
        if (progress == null) {
            return;
        }
        synchronized (this) {
            finished[i] = true;
            while (prefixBlocks < blocks && finished[prefixBlocks]) {
                prefixBlocks++;
            }
        }
        if (progressLock.tryLock()) {
            try {
                long prefix;
                synchronized (this) { // read under the lock: calls are in order, so the prefix told never shrinks
                    prefix = Math.min(region.byteSize(), prefixBlocks * blockBytes);
                }
                progress.accept(prefix);
            } finally {
                progressLock.unlock();
            }
        }
    }

    private void read(int i) throws IOException {
        long offset = i * blockBytes;
        long length = Math.min(blockBytes, region.byteSize() - offset);
        if (i == 0) {
            long t0 = System.nanoTime();
            source.read(offset, length);
            firstReadNanos = System.nanoTime() - t0;
        } else {
            source.read(offset, length);
        }
    }

    private void checksum(int i) {
        long offset = i * blockBytes;
        CRC32C crc = new CRC32C();
        crc.update(region.asSlice(offset, Math.min(blockBytes, region.byteSize() - offset)).asByteBuffer());
        blockCrcs[i] = (int) crc.getValue();
    }

    private void fail(Throwable e) {
        if (failure == null) {
            failure = e;
        }
    }

    /**
     * Ends the claiming and waits until every claimed block is done: at most the one the helper is on.
     * Only this method sets the claim counters back, so the values it replaces count every claim made.
     */
    private void stopAndAwaitHelper() {
        AtomicInteger claims = cached ? nextRead : nextCrc;
        int claimed = Math.min(claims.getAndSet(blocks), blocks);
        for (int spins = 1; done.get() < claimed; spins++) {
            ReadHelpers.relax(spins);
        }
    }

    private int combined() {
        if (blocks == 0) {
            return (int) new CRC32C().getValue();
        }
        int crc = blockCrcs[0];
        for (int i = 1; i < blocks; i++) {
            crc = Crc32cCombine.combine(crc, blockCrcs[i], Math.min(blockBytes, region.byteSize() - i * blockBytes));
        }
        return crc;
    }
}
