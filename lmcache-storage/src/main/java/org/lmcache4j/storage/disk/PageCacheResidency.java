package org.lmcache4j.storage.disk;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
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
    OptionalDouble cachedFraction(Path file, long offset, long length);

    /**
     * Residency as the kernel's {@code cachestat} reports it (Linux 6.5+), where there is a C library;
     * unknown elsewhere. Not {@code mincore}: it needs a mapping of the file, and a {@code munmap} per
     * chunk cost here more than a warm read's whole margin over a raw read (each one a TLB shootdown
     * across the process's cores, slow on virtual machines).
     */
    static PageCacheResidency system() {
        Optional<Libc> libc = Libc.instance();
        return libc.isPresent() ? new Cachestat(libc.get()) : unknown();
    }

    /** Never known: readers fall back to what the speed of earlier reads suggests. */
    static PageCacheResidency unknown() {
        return (file, offset, length) -> OptionalDouble.empty();
    }

    /** {@link Libc#cachedPages}: one open, one {@code cachestat}, one close per chunk (microseconds). */
    final class Cachestat implements PageCacheResidency {
        private static final long PAGE_BYTES = 4096;
        private final Libc libc;

        Cachestat(Libc libc) {
            this.libc = libc;
        }

        @Override
        public OptionalDouble cachedFraction(Path file, long offset, long length) {
            if (length <= 0) {
                return OptionalDouble.empty();
            }
            try {
                OptionalLong pages = libc.cachedPages(file.toString(), offset, length);
                if (pages.isEmpty()) {
                    return OptionalDouble.empty();
                }
                long first = offset / PAGE_BYTES;
                long spanned = (offset + length + PAGE_BYTES - 1) / PAGE_BYTES - first;
                return OptionalDouble.of(Math.min(1.0, (double) pages.getAsLong() / spanned));
            } catch (RuntimeException e) { // the file went away, or the call failed: the reader falls back
                return OptionalDouble.empty();
            }
        }
    }
}
