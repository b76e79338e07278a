/**
 * Panama FFM facades over libc (mmap/munmap, mlock, madvise, posix_fadvise, setpriority) and off-heap slabs built on them, with a
 * plain {@link java.lang.foreign.Arena} fallback when the native calls are unavailable.
 */
module org.lmcache4j.nativeio {
    requires org.slf4j;

    exports org.lmcache4j.nativeio;
}
