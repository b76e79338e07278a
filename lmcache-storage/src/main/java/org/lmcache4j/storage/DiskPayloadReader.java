package org.lmcache4j.storage;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the payload of a checked chunk file into memory and verifies its CRC32C: in blocks of
 * {@value #READ_BLOCK_BYTES} bytes shared with a helper thread ({@link SharedBlockRead}: from the page cache
 * both read and checksum blocks, from the device the caller reads in order and the helper checksums
 * behind it), either through the page cache (the default) or, when asked for
 * ({@code -D}{@value #DIRECT_PROPERTY}{@code =true}), with {@code O_DIRECT} for every whole
 * file-system block of a target aligned to one, and through the page cache for the rest.
 *
 * <p>Why buffered is the default: on the machines this was measured on, {@code O_DIRECT} reads were
 * slower than buffered ones with the page cache cold as well as warm (docs/PERFORMANCE.md, "Disk read
 * and write"); direct reads only win where the device is faster than the copy out of the page cache,
 * or where the cache's memory matters more than the read.
 */
final class DiskPayloadReader {

    /** The system property that turns {@code O_DIRECT} payload reads on. */
    static final String DIRECT_PROPERTY = "lmcache.disk.directReads";
    /** What one thread reads and then checksums at once: fits the CPU's L2 cache. */
    static final int READ_BLOCK_BYTES = 256 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(DiskPayloadReader.class);
    /** {@code com.sun.nio.file.ExtendedOpenOption.DIRECT}, looked up once (a JDK-specific option). */
    private static final Optional<OpenOption> O_DIRECT = directOption();

    private final DiskIo io;
    private final boolean direct;
    private final long alignmentBytes;
    private final boolean shared;
    private final AtomicBoolean directFailed = new AtomicBoolean();
    private final SharedBlockRead.CacheGuess cacheGuess = new SharedBlockRead.CacheGuess();

    /**
     * @param direct         read whole blocks with {@code O_DIRECT} when the target is aligned
     * @param alignmentBytes what {@code O_DIRECT} needs of addresses, offsets and lengths (the file
     *                       system's block size); at most {@link DiskChunkFormat#PAYLOAD_OFFSET}
     * @param shared         share each read with a helper thread (false: the caller reads every block)
     */
    DiskPayloadReader(DiskIo io, boolean direct, long alignmentBytes, boolean shared) {
        if (alignmentBytes <= 0 || DiskChunkFormat.PAYLOAD_OFFSET % alignmentBytes != 0) {
            throw new IllegalArgumentException("alignmentBytes: " + alignmentBytes + " (expected: a divisor of "
                    + DiskChunkFormat.PAYLOAD_OFFSET + ")");
        }
        this.io = io;
        if (direct && O_DIRECT.isEmpty()) {
            LOG.warn("disk tier: -D{}=true, but this JDK has no com.sun.nio.file.ExtendedOpenOption.DIRECT; reading through "
                    + "the page cache", DIRECT_PROPERTY);
        }
        this.direct = direct && O_DIRECT.isPresent();
        this.alignmentBytes = alignmentBytes;
        this.shared = shared;
    }

    /** True when payload reads use {@code O_DIRECT} where they can. */
    boolean direct() {
        return direct && !directFailed.get();
    }

    /**
     * Reads the payload described by {@code header} from {@code ch} (a buffered channel on {@code file})
     * into {@code dst}, exactly its length, and checks its checksum.
     *
     * @throws CorruptChunkException when the file ends early or the checksum differs
     */
    void read(FileChannel ch, Path file, DiskChunkFormat.Header header, MemorySegment dst) throws IOException {
        long n = dst.byteSize();
        long directBytes = direct() && dst.isNative() && dst.address() % alignmentBytes == 0 ? n - n % alignmentBytes : 0;
        FileChannel dch = directBytes > 0 ? openDirect(file) : null;
        if (dch == null) {
            directBytes = 0;
        }
        try {
            long directEnd = directBytes;
            FileChannel directChannel = dch;
            SharedBlockRead.BlockSource blocks = (off, len) -> {
                long end = off + len;
                long split = Math.clamp(directEnd, off, end); // [off, split) direct, [split, end) buffered
                if (split > off) {
                    DiskChunkFormat.readFully(directChannel, dst.asSlice(off, split - off).asByteBuffer(), DiskChunkFormat.PAYLOAD_OFFSET + off, file);
                }
                if (end > split) {
                    DiskChunkFormat.readFully(ch, dst.asSlice(split, end - split).asByteBuffer(), DiskChunkFormat.PAYLOAD_OFFSET + split, file);
                }
            };
            int actual = SharedBlockRead.readAndChecksum(dst, READ_BLOCK_BYTES, blocks, shared, cacheGuess);
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
