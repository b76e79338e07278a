package org.lmcache4j.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The one facade over the C library: every downcall the project makes into libc, each returning its
 * result and throwing {@link NativeCallException} (with the captured {@code errno}) on failure.
 *
 * <p>Obtain it with {@link #instance()}, which probes once: it is empty on platforms without these
 * symbols (or when {@code -Dlmcache.native.disable=true}), and callers fall back to plain JDK memory.
 */
@SuppressWarnings("restricted") // this class is the one reviewed place for libc downcalls
public final class Libc {

    /** {@code PROT_READ | PROT_WRITE}. */
    static final int PROT_READ_WRITE = 0x1 | 0x2;
    /** {@code MAP_PRIVATE | MAP_ANONYMOUS} (Linux values). */
    static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    /** {@code MADV_HUGEPAGE}: ask for transparent huge pages. */
    public static final int MADV_HUGEPAGE = 14;
    /** {@code MADV_DONTDUMP}: keep cached KV out of core dumps. */
    public static final int MADV_DONTDUMP = 16;
    /**
     * {@code MADV_POPULATE_WRITE} (Linux 5.14+): fault the range in writable, as a write to every page
     * would, without changing its contents; older kernels reject it with {@code EINVAL}.
     */
    public static final int MADV_POPULATE_WRITE = 23;

    private static final long MAP_FAILED = -1L;
    /** {@code O_RDONLY | O_CLOEXEC} (Linux values). */
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    /** {@code POSIX_FADV_DONTNEED} (Linux value). */
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final int PRIO_PROCESS = 0;
    /** The base page size, the unit of {@code mincore}. */
    private static final long PAGE_BYTES = 4096;
    /** {@code cachestat}'s number (Linux 6.5+): 451 on x86-64 and arm64 alike. */
    private static final long SYS_CACHESTAT = 451;
    private static final int ENOSYS = 38;
    /** {@code struct cachestat_range}: offset and length in bytes. */
    private static final StructLayout CACHESTAT_RANGE = MemoryLayout.structLayout(ValueLayout.JAVA_LONG.withName("off"),
            ValueLayout.JAVA_LONG.withName("len"));
    /** {@code struct cachestat}: counts of pages; the first, cached pages, is the one read here. */
    private static final StructLayout CACHESTAT = MemoryLayout.structLayout(ValueLayout.JAVA_LONG.withName("nr_cache"),
            ValueLayout.JAVA_LONG.withName("nr_dirty"), ValueLayout.JAVA_LONG.withName("nr_writeback"),
            ValueLayout.JAVA_LONG.withName("nr_evicted"), ValueLayout.JAVA_LONG.withName("nr_recently_evicted"));

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private final MethodHandle mmap;
    private final MethodHandle munmap;
    private final MethodHandle mlock;
    private final MethodHandle munlock;
    private final MethodHandle madvise;
    private final MethodHandle mincore;
    private final MethodHandle setpriority;
    private final Optional<MethodHandle> gettid; // glibc 2.30+
    private final MethodHandle strerror;
    // page-cache control for the disk tier's benchmark
    private final MethodHandle open;
    private final MethodHandle close;
    private final MethodHandle posixFadvise;
    // page-cache residency of disk-tier chunks: syscall(SYS_cachestat, ...), on kernels and CPUs that have it
    private final Optional<MethodHandle> syscall;
    private volatile boolean cachestatMissing;

    private Libc(Linker linker, SymbolLookup libc) {
        Linker.Option errno = Linker.Option.captureCallState("errno");
        ValueLayout.OfLong sizeT = ValueLayout.JAVA_LONG;
        mmap = linker.downcallHandle(find(libc, "mmap"), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                sizeT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), errno);
        munmap = linker.downcallHandle(find(libc, "munmap"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, sizeT), errno);
        mlock = linker.downcallHandle(find(libc, "mlock"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, sizeT), errno);
        munlock = linker.downcallHandle(find(libc, "munlock"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, sizeT), errno);
        madvise = linker.downcallHandle(find(libc, "madvise"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, sizeT, ValueLayout.JAVA_INT), errno);
        mincore = linker.downcallHandle(find(libc, "mincore"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, sizeT, ValueLayout.ADDRESS), errno);
        setpriority = linker.downcallHandle(find(libc, "setpriority"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno);
        gettid = libc.find("gettid").map(symbol -> linker.downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.JAVA_INT)));
        strerror = linker.downcallHandle(find(libc, "strerror"),
                FunctionDescriptor.of(ValueLayout.ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(256, ValueLayout.JAVA_BYTE)),
                        ValueLayout.JAVA_INT));
        open = linker.downcallHandle(find(libc, "open"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), errno);
        close = linker.downcallHandle(find(libc, "close"), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno);
        posixFadvise = linker.downcallHandle(find(libc, "posix_fadvise"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        syscall = arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64")
                ? libc.find("syscall").map(symbol -> linker.downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                        errno, Linker.Option.firstVariadicArg(1)))
                : Optional.empty();
    }

    /** The facade, or empty when libc cannot be linked here; probed once per JVM. */
    public static Optional<Libc> instance() {
        return NativeProbe.libc();
    }

    /** Links libc's symbols; throws when a symbol or the linker is missing. Used by {@link NativeProbe}. */
    static Libc link() {
        Linker linker = Linker.nativeLinker();
        return new Libc(linker, linker.defaultLookup());
    }

    /** {@code mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)}: zeroed, page-aligned memory. */
    public MemorySegment mmapAnonymous(long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            MemorySegment addr = (MemorySegment) mmap.invokeExact(state, MemorySegment.NULL, length, PROT_READ_WRITE,
                    MAP_PRIVATE_ANONYMOUS, -1, 0L);
            if (addr.address() == MAP_FAILED || addr.address() == 0) {
                throw failure("mmap(" + length + " bytes, anonymous)", state);
            }
            return addr;
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("mmap downcall failed", t);
        }
    }

    /** {@code munmap(address, length)}. */
    public void munmap(long address, long length) {
        callInt("munmap", munmap, address, length);
    }

    /** {@code mlock(address, length)}: keeps the range resident (pinned) in RAM. */
    public void mlock(long address, long length) {
        callInt("mlock", mlock, address, length);
    }

    /** {@code munlock(address, length)}. */
    public void munlock(long address, long length) {
        callInt("munlock", munlock, address, length);
    }

    /** {@code madvise(address, length, advice)}. */
    public void madvise(long address, long length, int advice) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int rc = (int) madvise.invokeExact(state, MemorySegment.ofAddress(address), length, advice);
            if (rc != 0) {
                throw failure("madvise(advice " + advice + ", " + length + " bytes)", state);
            }
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("madvise downcall failed", t);
        }
    }

    /**
     * {@code mlock} of a segment's memory. The segment's arena is held for the call, so the memory cannot
     * be freed under it (a concurrent close fails instead, and can be retried).
     */
    public void mlock(MemorySegment range) {
        callInt("mlock", mlock, range, range.byteSize());
    }

    /** {@code madvise} of a segment's memory, the arena held for the call (as {@link #mlock(MemorySegment)}). */
    public void madvise(MemorySegment range, int advice) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int rc = (int) madvise.invokeExact(state, range, range.byteSize(), advice);
            if (rc != 0) {
                throw failure("madvise(advice " + advice + ", " + range.byteSize() + " bytes)", state);
            }
        } catch (RuntimeException e) {
            throw e; // a failed call, or the segment's arena already closed
        } catch (Throwable t) {
            throw new IllegalStateException("madvise downcall failed", t);
        }
    }

    /**
     * Drops the clean pages of {@code file} from the page cache: {@code open(O_RDONLY)},
     * {@code posix_fadvise(POSIX_FADV_DONTNEED)} over the whole file, {@code close}. Dirty pages stay
     * (force the file first), so the next read of the file comes from the device.
     */
    public void dropFromPageCache(String file) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int fd = (int) open.invokeExact(state, a.allocateFrom(file), O_RDONLY_CLOEXEC);
            if (fd < 0) {
                throw failure("open(" + file + ")", state);
            }
            try {
                int rc = (int) posixFadvise.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED);
                if (rc != 0) { // posix_fadvise returns the error number instead of setting errno
                    throw new NativeCallException("posix_fadvise(" + file + ", POSIX_FADV_DONTNEED)", rc, strerror(rc));
                }
            } finally {
                int ignored = (int) close.invokeExact(state, fd);
            }
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("posix_fadvise downcall failed", t);
        }
    }

    /**
     * Bytes of a page-aligned segment resident in RAM now ({@code mincore}, counted in 4 KiB pages): pages
     * of anonymous memory never touched count as absent.
     *
     * @throws IllegalArgumentException when the segment does not start on a page boundary
     */
    public long residentBytes(MemorySegment range) {
        if (range.address() % PAGE_BYTES != 0) {
            throw new IllegalArgumentException("mincore address: 0x" + Long.toHexString(range.address())
                    + " (expected: a multiple of " + PAGE_BYTES + ")");
        }
        long pages = Math.ceilDiv(range.byteSize(), PAGE_BYTES);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            MemorySegment vector = a.allocate(Math.max(1, pages));
            int rc = (int) mincore.invokeExact(state, range, range.byteSize(), vector);
            if (rc != 0) {
                throw failure("mincore(" + range.byteSize() + " bytes)", state);
            }
            long resident = 0;
            for (long i = 0; i < pages; i++) {
                resident += vector.get(ValueLayout.JAVA_BYTE, i) & 1;
            }
            return resident * PAGE_BYTES;
        } catch (RuntimeException e) {
            throw e; // a failed call, or the segment's arena already closed
        } catch (Throwable t) {
            throw new IllegalStateException("mincore downcall failed", t);
        }
    }

    /**
     * Pages of {@code [offset, offset + length)} of {@code file} in the page cache now ({@code cachestat},
     * Linux 6.5+; one {@code open}, one call, one {@code close}, nothing mapped or read), or empty where the
     * kernel or the CPU has no {@code cachestat} (known after the first call).
     *
     * @throws NativeCallException when the file cannot be opened or the call fails otherwise
     */
    public OptionalLong cachedPages(String file, long offset, long length) {
        if (syscall.isEmpty() || cachestatMissing) {
            return OptionalLong.empty();
        }
        CachestatScratch scratch = CACHESTAT_SCRATCH.get();
        MemorySegment path = scratch.path(file);
        MemorySegment state = scratch.state;
        try {
            int fd = (int) open.invokeExact(state, path, O_RDONLY_CLOEXEC);
            if (fd < 0) {
                throw failure("open(" + file + ")", state);
            }
            try {
                scratch.range.set(ValueLayout.JAVA_LONG, 0, offset);
                scratch.range.set(ValueLayout.JAVA_LONG, 8, length);
                long rc = (long) syscall.get().invokeExact(state, SYS_CACHESTAT, (long) fd, scratch.range, scratch.stat, 0L);
                if (rc != 0) {
                    if ((int) ERRNO.get(state, 0L) == ENOSYS) {
                        cachestatMissing = true;
                        return OptionalLong.empty();
                    }
                    throw failure("cachestat(" + file + ")", state);
                }
                return OptionalLong.of(scratch.stat.get(ValueLayout.JAVA_LONG, 0));
            } finally {
                int ignored = (int) close.invokeExact(state, fd);
            }
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cachestat downcall failed", t);
        }
    }

    /**
     * One thread's native memory for {@link #cachedPages}, reused by each call (the disk tier asks once per
     * chunk it reads; an arena and a C string per call cost more than the three system calls): freed by the
     * garbage collector once its thread is gone.
     */
    private static final class CachestatScratch {
        private static final int PATH_BYTES = 4096; // PATH_MAX, terminator included

        final Arena arena = Arena.ofAuto();
        final MemorySegment state = arena.allocate(CALL_STATE);
        final MemorySegment range = arena.allocate(CACHESTAT_RANGE);
        final MemorySegment stat = arena.allocate(CACHESTAT);
        private final MemorySegment path = arena.allocate(PATH_BYTES);

        /** {@code file} as a C string: in the reused buffer, or (a longer path) in memory of its own. */
        MemorySegment path(String file) {
            byte[] utf8 = file.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (utf8.length >= PATH_BYTES) {
                return arena.allocateFrom(file);
            }
            MemorySegment.copy(utf8, 0, path, ValueLayout.JAVA_BYTE, 0, utf8.length);
            path.set(ValueLayout.JAVA_BYTE, utf8.length, (byte) 0);
            return path;
        }
    }

    private static final ThreadLocal<CachestatScratch> CACHESTAT_SCRATCH = ThreadLocal.withInitial(CachestatScratch::new);

    /**
     * Sets the calling thread's nice value ({@code setpriority(PRIO_PROCESS, gettid(), nice)}: on Linux a
     * thread's own scheduling priority; 19 is the lowest).
     *
     * @throws NativeCallException            when refused (raising priority needs privileges)
     * @throws UnsupportedOperationException when this C library has no {@code gettid} (glibc before 2.30)
     */
    public void niceCurrentThread(int nice) {
        MethodHandle tid = gettid.orElseThrow(() -> new UnsupportedOperationException("libc symbol 'gettid' not found"));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int rc = (int) setpriority.invokeExact(state, PRIO_PROCESS, (int) tid.invokeExact(), nice);
            if (rc != 0) {
                throw failure("setpriority(nice " + nice + ")", state);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setpriority downcall failed", t);
        }
    }

    /** The C library's text for an errno value. */
    public String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) strerror.invokeExact(errno);
            return s.getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private void callInt(String name, MethodHandle handle, long address, long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int rc = (int) handle.invokeExact(state, MemorySegment.ofAddress(address), length);
            if (rc != 0) {
                throw failure(name + "(" + length + " bytes)", state);
            }
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(name + " downcall failed", t);
        }
    }

    private void callInt(String name, MethodHandle handle, MemorySegment range, long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int rc = (int) handle.invokeExact(state, range, length);
            if (rc != 0) {
                throw failure(name + "(" + length + " bytes)", state);
            }
        } catch (RuntimeException e) {
            throw e; // a failed call, or the segment's arena already closed
        } catch (Throwable t) {
            throw new IllegalStateException(name + " downcall failed", t);
        }
    }

    private NativeCallException failure(String call, MemorySegment state) {
        int errno = (int) ERRNO.get(state, 0L);
        return new NativeCallException(call, errno, strerror(errno));
    }

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc symbol '" + name + "' not found"));
    }
}
