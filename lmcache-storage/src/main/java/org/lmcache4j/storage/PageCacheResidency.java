package org.lmcache4j.storage;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.util.Optional;
import java.util.OptionalDouble;
import org.lmcache4j.nativeio.Libc;

/**
 * How much of a file range is in the page cache: the disk tier reads a chunk off the page cache with
 * {@code O_DIRECT} and one in it through the cache ({@link DiskPayloadReader}).
 */
@FunctionalInterface
interface PageCacheResidency {

    /**
     * The fraction of {@code [offset, offset + length)} of {@code file} in the page cache, from 0 to 1, or
     * empty when it cannot be told.
     */
    OptionalDouble cachedFraction(FileChannel file, long offset, long length);

    /** Residency as {@code mincore} reports it, where there is a C library; unknown elsewhere. */
    static PageCacheResidency system() {
        Optional<Libc> libc = Libc.instance();
        return libc.isPresent() ? new Mincore(libc.get()) : unknown();
    }

    /** Never known: readers fall back to what the speed of earlier reads suggests. */
    static PageCacheResidency unknown() {
        return (file, offset, length) -> OptionalDouble.empty();
    }

    /**
     * {@code mincore} over a read-only mapping of the range: the mapping faults nothing in, and costs a
     * {@code mmap} and a {@code munmap} (microseconds; a chunk's read takes milliseconds).
     */
    final class Mincore implements PageCacheResidency {
        private static final long PAGE_BYTES = 4096;
        private final Libc libc;

        Mincore(Libc libc) {
            this.libc = libc;
        }

        @Override
        public OptionalDouble cachedFraction(FileChannel file, long offset, long length) {
            if (length <= 0) {
                return OptionalDouble.empty();
            }
            long start = offset - offset % PAGE_BYTES;
            long span = offset + length - start;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment mapped = file.map(FileChannel.MapMode.READ_ONLY, start, span, arena);
                return OptionalDouble.of(Math.min(1.0, (double) libc.residentBytes(mapped) / Math.ceilDiv(span, PAGE_BYTES) / PAGE_BYTES));
            } catch (IOException | RuntimeException e) { // a channel that cannot map (not a file), a file shorter than asked
                return OptionalDouble.empty();
            }
        }
    }
}
