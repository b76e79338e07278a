package org.lmcache4j.examples.demo;

import java.io.IOException;
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
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The page-cache controls of the demo's disk baseline, through libc with FFM: drop a file's cached pages
 * ({@code fdatasync}, then {@code posix_fadvise(POSIX_FADV_DONTNEED)}) and count how many of its pages
 * are resident ({@code mincore} over a read-only mapping, which faults nothing in). Linux only: {@link #probe}
 * returns empty elsewhere or when a symbol is missing. The library's own libc facade lives in
 * {@code lmcache-native}; this one serves only the demo's measurement.
 */
@SuppressWarnings("restricted") // the demo's only libc downcalls, for its disk baseline
final class PageCache {

    private static final int O_RDONLY = 0;
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final int SC_PAGESIZE = 30;

    private final MethodHandle open;
    private final MethodHandle close;
    private final MethodHandle fdatasync;
    private final MethodHandle fadvise;
    private final MethodHandle mincore;
    private final StructLayout callState;
    private final VarHandle errno;
    private final long pageBytes;

    private PageCache(Linker linker, SymbolLookup libc) throws Throwable {
        Linker.Option errnoOption = Linker.Option.captureCallState("errno");
        callState = Linker.Option.captureStateLayout();
        errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        open = linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errnoOption, Linker.Option.firstVariadicArg(2));
        close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        fdatasync = linker.downcallHandle(libc.find("fdatasync").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errnoOption);
        fadvise = linker.downcallHandle(libc.find("posix_fadvise").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        mincore = linker.downcallHandle(libc.find("mincore").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS), errnoOption);
        MethodHandle sysconf = linker.downcallHandle(libc.find("sysconf").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        long page = (long) sysconf.invokeExact(SC_PAGESIZE);
        pageBytes = page > 0 ? page : 4096;
    }

    /** The controls, or empty when this is not Linux or libc lacks one of the calls (then the baseline says "unknown"). */
    static Optional<PageCache> probe() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return Optional.empty();
        }
        try {
            Linker linker = Linker.nativeLinker();
            return Optional.of(new PageCache(linker, linker.defaultLookup()));
        } catch (Throwable e) {
            return Optional.empty();
        }
    }

    /** Writes back any dirty pages of each file, then drops its cached pages. */
    void evict(List<Path> files) throws IOException {
        for (Path file : files) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(callState);
                int fd = (int) open.invokeExact(state, arena.allocateFrom(file.toString()), O_RDONLY, 0);
                if (fd < 0) {
                    throw new IOException("open " + file + ": errno " + errno(state) + " (expected: a readable chunk file)");
                }
                try {
                    if ((int) fdatasync.invokeExact(state, fd) != 0) {
                        throw new IOException("fdatasync " + file + ": errno " + errno(state) + " (expected: 0)");
                    }
                    int rc = (int) fadvise.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED);
                    if (rc != 0) {
                        throw new IOException("posix_fadvise(DONTNEED) " + file + ": error " + rc + " (expected: 0)");
                    }
                } finally {
                    int ignored = (int) close.invokeExact(fd);
                }
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IOException("page cache control of " + file + ": " + e, e);
            }
        }
    }

    /** The fraction of the files' pages that are in the page cache now, from 0 to 1 (0 for no bytes). */
    double residentFraction(List<Path> files) throws IOException {
        long resident = 0;
        long pages = 0;
        for (Path file : files) {
            long size = Files.size(file);
            if (size == 0) {
                continue;
            }
            try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                long n = (size + pageBytes - 1) / pageBytes;
                MemorySegment vector = arena.allocate(n);
                MemorySegment state = arena.allocate(callState);
                if ((int) mincore.invokeExact(state, mapped, size, vector) != 0) {
                    throw new IOException("mincore " + file + ": errno " + errno(state) + " (expected: 0)");
                }
                for (long i = 0; i < n; i++) {
                    resident += vector.get(ValueLayout.JAVA_BYTE, i) & 1;
                }
                pages += n;
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IOException("mincore of " + file + ": " + e, e);
            }
        }
        return pages == 0 ? 0 : (double) resident / pages;
    }

    private int errno(MemorySegment state) {
        return (int) errno.get(state, 0L);
    }
}
