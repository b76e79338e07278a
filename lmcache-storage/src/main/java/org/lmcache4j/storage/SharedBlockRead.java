package org.lmcache4j.storage;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;

/**
 * One chunk read into memory in blocks of equal size, by its owner and, when one is idle, a helper
 * thread ({@link ReadHelpers}) at the same time when the file is in the page cache: each claims the next block, reads it and checksums it
 * right away, while the block is still in its own core's cache; the owner then combines the blocks'
 * CRC32C into the region's ({@link Crc32cCombine}). The result is the CRC32C of the whole region either
 * way; with a helper, the read and the checksum of a chunk take both cores, and a cold read keeps two
 * requests in flight.
 *
 * <p>Why blocks are claimed rather than split in halves: a helper that is slow to start (it was parked,
 * or its core is busy) then takes fewer blocks, and one that never starts takes none; the owner waits
 * at most for the block the helper is on. {@link #readAndChecksum} returns only once the helper no
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

    /** A thread that owns nothing: a region it may access is one any helper may access. */
    private static final Thread NOT_THE_OWNER = Thread.ofPlatform().unstarted(() -> { });

    private final MemorySegment region;
    private final long blockBytes;
    private final int blocks;
    private final BlockSource source;
    private final int[] blockCrcs;
    private final AtomicInteger next = new AtomicInteger(); // the next block to claim
    private final AtomicInteger done = new AtomicInteger(); // blocks read (or failed), each written to blockCrcs first
    private volatile Throwable failure; // the first block read that failed, on either thread; set before that block counts as done
    private volatile long firstReadNanos = -1; // how long the read of block 0 took, once it is read

    private SharedBlockRead(MemorySegment region, long blockBytes, BlockSource source) {
        this.region = region;
        this.blockBytes = blockBytes;
        this.blocks = Math.toIntExact((region.byteSize() + blockBytes - 1) / blockBytes);
        this.source = source;
        this.blockCrcs = new int[blocks];
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

        void firstBlock(long bytes, long nanos) {
            cached = bytes * 1000 / Math.max(1, nanos) >= cachedBytesPerMicrosecond;
        }
    }

    /**
     * Fills {@code region} from {@code source} block by block and returns its CRC32C. A helper reads with
     * this thread when {@code guess} says the file is in the page cache, from the first block on when the
     * last read found it so, from the second when this read's first block does; otherwise this thread
     * reads alone. Reads from the device go faster in one sequential stream (measured: 16 cold chunk files
     * of 11 MiB, 43-56 ms read block after block here, 80-100 ms with a helper's reads interleaved); reads
     * from the page cache go faster on two cores (the same files warm: 10.4-11.4 ms shared, 16-19 ms alone).
     *
     * @param shared false to read on this thread only (also when the region is confined to this thread)
     * @throws IOException the first failure of a block read, on either thread
     */
    static int readAndChecksum(MemorySegment region, long blockBytes, BlockSource source, boolean shared, CacheGuess guess)
            throws IOException {
        if (blockBytes <= 0) {
            throw new IllegalArgumentException("blockBytes: " + blockBytes + " (expected: > 0)");
        }
        SharedBlockRead read = new SharedBlockRead(region, blockBytes, source);
        boolean mayShare = shared && read.blocks > 1 && region.isAccessibleBy(NOT_THE_OWNER);
        try {
            boolean helped = mayShare && guess.cached() && ReadHelpers.offer(read);
            read.claimAndRead(1);
            if (read.firstReadNanos >= 0) { // block 0 read, here or by the helper
                guess.firstBlock(Math.min(blockBytes, region.byteSize()), read.firstReadNanos);
            }
            if (mayShare && !helped && guess.cached()) {
                ReadHelpers.offer(read);
            }
            read.claimAndRead(Integer.MAX_VALUE);
        } finally {
            read.stopAndAwaitHelper();
        }
        Throwable f = read.failure;
        if (f instanceof IOException e) {
            throw e;
        } else if (f instanceof RuntimeException e) {
            throw e;
        } else if (f != null) {
            throw (Error) f;
        }
        return read.combined();
    }

    /** Run by a helper: takes blocks until none is left; a failure is handed to the owner. */
    @Override
    public void run() {
        try {
            claimAndRead(Integer.MAX_VALUE);
        } catch (IOException | RuntimeException | Error e) {
            // recorded in failure for the owner, which stops claiming too
        }
    }

    /** Reads and checksums blocks, claimed one at a time, until none is left or {@code most} are done. */
    private void claimAndRead(int most) throws IOException {
        for (int i, n = 0; n < most && failure == null && (i = next.getAndIncrement()) < blocks; n++) {
            try {
                long offset = i * blockBytes;
                long length = Math.min(blockBytes, region.byteSize() - offset);
                if (i == 0) {
                    long t0 = System.nanoTime();
                    source.read(offset, length);
                    firstReadNanos = System.nanoTime() - t0;
                } else {
                    source.read(offset, length);
                }
                CRC32C crc = new CRC32C();
                crc.update(region.asSlice(offset, length).asByteBuffer());
                blockCrcs[i] = (int) crc.getValue();
            } catch (IOException | RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                }
                throw e;
            } finally {
                done.incrementAndGet();
            }
        }
    }

    /**
     * Ends the claiming and waits until every claimed block is done: at most the one the helper is on.
     * Only this method moves {@code next} back, so the value it replaces counts every claim made.
     */
    private void stopAndAwaitHelper() {
        int claimed = Math.min(next.getAndSet(blocks), blocks);
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
