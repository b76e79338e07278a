package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the payload of a checked chunk file into memory and verifies its CRC32C, in blocks shared with a
 * helper thread ({@link SharedBlockRead}). How each chunk is read depends on where its bytes are, which
 * {@link PageCacheResidency} finds out before the read ({@code cachestat}; asked before a reader's first
 * read and after any read that did not come from the page cache, not while reads do: a probe is three
 * system calls, a share of a warm read of a few MiB that buys nothing while the files are cached):
 * <ul>
 *   <li>in the page cache: buffered reads of half the payload each ({@link #cachedBlockBytes}), both
 *       threads reading and checksumming the blocks they claim;</li>
 *   <li>not in the page cache (a restart, a second engine, files the kernel reclaimed): {@code O_DIRECT}
 *       reads of {@value #DIRECT_BLOCK_BYTES} bytes straight into the target (every whole file-system block
 *       of a target aligned to one; the tail buffered), both threads claiming blocks, so two requests are
 *       in flight; where {@code O_DIRECT} is not possible (an unaligned target, a file system that refuses
 *       it), buffered reads in order by the caller with the helper checksumming behind.</li>
 * </ul>
 * Where residency cannot be asked (not Linux, no C library), reads are buffered and shared as the speed
 * of the last read's first block suggests ({@link SharedBlockRead.CacheGuess}).
 *
 * <p>Why {@code O_DIRECT} for chunks off the page cache (docs/PERFORMANCE.md, "Disk reads off the page
 * cache"): the demo's disk hit in a new process, a 180 MiB prompt with the page cache cold, took 324 ms
 * buffered (one run) and 137-167 ms direct (three runs). A buffered read from the device also copies every
 * byte out of the page cache into the target, which in that process ran at ~2.4 GB/s (profiled); a direct
 * read lets the device write the target. From the page cache a buffered read is that one copy, and a
 * direct one would go to the device again, so cached chunks stay buffered.
 * {@code -D}{@value #DIRECT_PROPERTY} sets it: {@code auto} (the default, as above), {@code true} (direct
 * wherever possible, cached or not) or {@code false} (never).
 */
final class DiskPayloadReader {

    /** The system property that chooses when payloads are read with {@code O_DIRECT}: auto, true or false. */
    static final String DIRECT_PROPERTY = "lmcache.disk.directReads";
    /**
     * What the caller reads from the device in one call while the helper checksums behind it, and the
     * least block of a read from the page cache ({@link #cachedBlockBytes}).
     */
    static final int READ_BLOCK_BYTES = 256 * 1024;
    /** One {@code O_DIRECT} request: 1-4 MiB did alike in the demo's restart here, 256 KiB slower (one device request each). */
    static final int DIRECT_BLOCK_BYTES = 1 << 20;
    /** A payload with less of it in the page cache than this fraction is read with {@code O_DIRECT}. */
    static final double CACHED_FRACTION = 0.5;

    /** When payloads are read with {@code O_DIRECT}. */
    enum DirectReads {
        /** For payloads not in the page cache (the default). */
        AUTO,
        /** Wherever the target and the file system allow it. */
        ALWAYS,
        /** Never. */
        NEVER;

        /** The setting named by {@value #DIRECT_PROPERTY}'s value: {@code auto} (or unset), {@code true} or {@code false}. */
        static DirectReads of(String value) {
            if (value == null || value.isBlank() || value.strip().equalsIgnoreCase("auto")) {
                return AUTO;
            } else if (value.strip().equalsIgnoreCase("true")) {
                return ALWAYS;
            } else if (value.strip().equalsIgnoreCase("false")) {
                return NEVER;
            }
            throw new IllegalArgumentException("-D" + DIRECT_PROPERTY + "=" + value + " (expected: auto, true or false)");
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(DiskPayloadReader.class);
    /** {@code com.sun.nio.file.ExtendedOpenOption.DIRECT}, looked up once (a JDK-specific option). */
    private static final Optional<OpenOption> O_DIRECT = directOption();

    private final DiskIo io;
    private final DirectReads directReads;
    private final long alignmentBytes;
    private final boolean shared;
    private final PageCacheResidency residency;
    private final AtomicBoolean directFailed = new AtomicBoolean();
    private final AtomicLong directPayloads = new AtomicLong();
    private final SharedBlockRead.CacheGuess cacheGuess = new SharedBlockRead.CacheGuess();

    /**
     * @param directReads    when to read whole blocks with {@code O_DIRECT} (the target must be aligned)
     * @param alignmentBytes what {@code O_DIRECT} needs of addresses, offsets and lengths (the file
     *                       system's block size); at most {@link DiskChunkFormat#PAYLOAD_OFFSET}
     * @param shared         share each read with a helper thread (false: the caller reads every block)
     * @param residency      how much of a payload is in the page cache
     */
    DiskPayloadReader(DiskIo io, DirectReads directReads, long alignmentBytes, boolean shared, PageCacheResidency residency) {
        if (alignmentBytes <= 0 || DiskChunkFormat.PAYLOAD_OFFSET % alignmentBytes != 0) {
            throw new IllegalArgumentException("alignmentBytes: " + alignmentBytes + " (expected: a divisor of "
                    + DiskChunkFormat.PAYLOAD_OFFSET + ")");
        }
        this.io = io;
        if (directReads == DirectReads.ALWAYS && O_DIRECT.isEmpty()) {
            LOG.warn("-D{}=true: this JDK has no O_DIRECT open option (com.sun.nio.file.ExtendedOpenOption.DIRECT); reading "
                    + "through the page cache", DIRECT_PROPERTY);
        }
        this.directReads = O_DIRECT.isPresent() ? directReads : DirectReads.NEVER;
        this.alignmentBytes = alignmentBytes;
        this.shared = shared;
        this.residency = residency;
        // the first read asks: a new process's first reads are often its restart's, off the page cache
        cacheGuess.cached(this.directReads != DirectReads.AUTO);
    }

    /** @param direct true: {@link DirectReads#ALWAYS}, false: {@link DirectReads#NEVER} */
    DiskPayloadReader(DiskIo io, boolean direct, long alignmentBytes, boolean shared) {
        this(io, direct ? DirectReads.ALWAYS : DirectReads.NEVER, alignmentBytes, shared, PageCacheResidency.system());
    }

    /** True when payload reads may use {@code O_DIRECT}: asked for, and not refused by the file system so far. */
    boolean direct() {
        return directReads != DirectReads.NEVER && !directFailed.get();
    }

    /** Payloads read with {@code O_DIRECT} so far (in whole or in part). */
    long directPayloads() {
        return directPayloads.get();
    }

    /**
     * Reads the payload described by {@code header} from {@code ch} (a buffered channel on {@code file})
     * into {@code dst}, exactly its length, and checks its checksum.
     *
     * @throws CorruptChunkException when the file ends early or the checksum differs
     */
    void read(FileChannel ch, Path file, DiskChunkFormat.Header header, MemorySegment dst) throws IOException {
        read(ch, file, header, dst, null);
    }

    /**
     * As {@link #read(FileChannel, Path, DiskChunkFormat.Header, MemorySegment)}, telling {@code progress}
     * (when not null) how long a prefix of {@code dst} is read while the rest is still being read (see
     * {@link SharedBlockRead#readAndChecksum(MemorySegment, long, SharedBlockRead.BlockSource, boolean, boolean,
     * java.util.function.LongConsumer)}): a decoder works on it meanwhile.
     */
    void read(FileChannel ch, Path file, DiskChunkFormat.Header header, MemorySegment dst, LongConsumer progress) throws IOException {
        long n = dst.byteSize();
        boolean aligned = direct() && dst.isNative() && dst.address() % alignmentBytes == 0 && n >= alignmentBytes;
        boolean alwaysDirect = aligned && directReads == DirectReads.ALWAYS;
        // asked only after a read that did not come from the page cache: while reads do, a probe buys nothing
        OptionalDouble cached = aligned && directReads == DirectReads.AUTO && !cacheGuess.cached()
                ? residency.cachedFraction(file, DiskChunkFormat.PAYLOAD_OFFSET, n) : OptionalDouble.empty();
        boolean inCache = cached.isPresent() && cached.getAsDouble() >= CACHED_FRACTION;
        FileChannel dch = alwaysDirect || cached.isPresent() && !inCache ? openDirect(file) : null;
        try {
            int actual;
            if (dch != null) {
                directPayloads.incrementAndGet();
                actual = SharedBlockRead.readAndChecksum(dst, DIRECT_BLOCK_BYTES, blocks(ch, dch, n - n % alignmentBytes, file, dst),
                        shared, true, progress);
            } else if (inCache) {
                cacheGuess.cached(true); // the next chunk is read as from the page cache, without asking
                actual = SharedBlockRead.readAndChecksum(dst, cachedBlockBytes(n), blocks(ch, null, 0, file, dst), shared, true,
                        progress);
            } else {
                actual = SharedBlockRead.readAndChecksum(dst, cacheGuess.cached() ? cachedBlockBytes(n) : READ_BLOCK_BYTES,
                        blocks(ch, null, 0, file, dst), shared, cacheGuess, progress);
            }
            if (actual != header.payloadCrc()) {
                throw new CorruptChunkException(CorruptChunkException.diskFile(file), "payload checksum mismatch (stored "
                        + DiskChunkFormat.hex(header.payloadCrc()) + ", computed " + DiskChunkFormat.hex(actual) + ")");
            }
        } finally {
            if (dch != null) {
                dch.close();
            }
        }
    }

    /**
     * The block of a read from the page cache: half the payload (whole pages), at least
     * {@value #READ_BLOCK_BYTES} bytes, so the caller and the helper each copy and checksum about one half
     * in one call: each read is a system call, costly on virtual machines, and CRC32C runs at ~31 GB/s out
     * of memory here (40 GB/s out of L2), so keeping a block in L2 saves less than the extra calls cost
     * (warm reads of 3 MiB chunks in 256 KiB blocks were the slowest of 256 KiB, 768 KiB and halves).
     */
    static long cachedBlockBytes(long payloadBytes) {
        long half = Math.ceilDiv(Math.ceilDiv(payloadBytes, 2), 4096) * 4096;
        return Math.max(READ_BLOCK_BYTES, half);
    }

    /** Reads of {@code [0, directEnd)} of the payload through {@code direct}, the rest through {@code buffered}. */
    private static SharedBlockRead.BlockSource blocks(FileChannel buffered, FileChannel direct, long directEnd, Path file,
            MemorySegment dst) {
        return (off, len) -> {
            long end = off + len;
            long split = Math.clamp(directEnd, off, end); // [off, split) direct, [split, end) buffered
            if (split > off) {
                DiskChunkFormat.readFully(direct, dst.asSlice(off, split - off).asByteBuffer(), DiskChunkFormat.PAYLOAD_OFFSET + off, file);
            }
            if (end > split) {
                DiskChunkFormat.readFully(buffered, dst.asSlice(split, end - split).asByteBuffer(), DiskChunkFormat.PAYLOAD_OFFSET + split,
                        file);
            }
        };
    }

    /** A direct channel on {@code file}, or null (reads stay buffered from now on) when the file system refuses one. */
    private FileChannel openDirect(Path file) throws IOException {
        try {
            return io.open(file, StandardOpenOption.READ, O_DIRECT.orElseThrow());
        } catch (NoSuchFileException gone) {
            throw gone;
        } catch (UnsupportedOperationException | IOException e) {
            if (directFailed.compareAndSet(false, true)) {
                LOG.warn("disk tier: O_DIRECT reads refused for {} ({}); reading through the page cache", file, e.toString());
            }
            return null;
        }
    }

    private static Optional<OpenOption> directOption() {
        try {
            return Optional.of((OpenOption) Class.forName("com.sun.nio.file.ExtendedOpenOption").getField("DIRECT").get(null));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return Optional.empty();
        }
    }
}
