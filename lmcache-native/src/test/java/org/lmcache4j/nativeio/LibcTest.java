package org.lmcache4j.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

@SuppressWarnings("restricted") // reinterpret of the raw mmap result
class LibcTest {

    private static final long PAGE = 4096;
    private static final int EINVAL = 22;

    private static Libc libc() {
        return Libc.instance().orElseThrow(() -> new AssertionError("Libc.instance() is empty on Linux"));
    }

    /** The {@code VmLck} line of /proc/self/status, in kB. */
    static long lockedKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmLck:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmLck in /proc/self/status");
    }

    static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    @Test
    void presentOnLinuxAndProbedOnce() {
        assertTrue(System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux"));
        assertTrue(Libc.instance().isPresent(), "Libc.instance() on Linux with native access enabled");
        assertSame(Libc.instance().get(), Libc.instance().get());
        assertSame(Libc.instance().get(), NativeProbe.libc().get());
    }

    @Test
    void mmapAnonymousGivesPageAlignedZeroedWritableMemory() {
        Libc libc = libc();
        long length = 3 * PAGE;
        MemorySegment raw = libc.mmapAnonymous(length);
        try {
            assertEquals(0, raw.address() % PAGE, () -> "address 0x" + Long.toHexString(raw.address()));
            MemorySegment mem = raw.reinterpret(length);
            assertEquals(-1, mem.mismatch(MemorySegment.ofArray(new byte[(int) length])), "anonymous memory is zeroed");
            mem.set(ValueLayout.JAVA_LONG, length - 8, 0x1234_5678_9abc_def0L);
            assertEquals(0x1234_5678_9abc_def0L, mem.get(ValueLayout.JAVA_LONG, length - 8));
        } finally {
            libc.munmap(raw.address(), length);
        }
    }

    @Test
    void mmapOfZeroBytesFailsWithEinval() {
        NativeCallException e = assertThrows(NativeCallException.class, () -> libc().mmapAnonymous(0));
        assertEquals(EINVAL, e.errno());
        assertEquals("mmap(0 bytes, anonymous) failed: errno 22 (Invalid argument)", e.getMessage());
    }

    @Test
    void munmapOfUnalignedAddressFailsWithEinval() {
        Libc libc = libc();
        MemorySegment raw = libc.mmapAnonymous(PAGE);
        try {
            NativeCallException e = assertThrows(NativeCallException.class, () -> libc.munmap(raw.address() + 1, PAGE));
            assertEquals(EINVAL, e.errno());
            assertEquals("munmap(4096 bytes) failed: errno 22 (Invalid argument)", e.getMessage());
        } finally {
            libc.munmap(raw.address(), PAGE);
        }
    }

    @Test
    void madviseWithInvalidAdviceFailsWithEinval() {
        Libc libc = libc();
        MemorySegment raw = libc.mmapAnonymous(PAGE);
        try {
            NativeCallException e = assertThrows(NativeCallException.class,
                    () -> libc.madvise(raw.address(), PAGE, 9999));
            assertEquals(EINVAL, e.errno());
            assertTrue(e.getMessage().startsWith("madvise(advice 9999, 4096 bytes) failed: errno 22"), e.getMessage());
            // The advice the slabs use is accepted (DONTDUMP is supported by every Linux since 3.4).
            libc.madvise(raw.address(), PAGE, Libc.MADV_DONTDUMP);
        } finally {
            libc.munmap(raw.address(), PAGE);
        }
    }

    @Test
    void mlockAndMunlockOfAMappedRange() throws IOException {
        assumeTrue(runningAsRoot(), "mlock beyond ulimit -l needs root; this JVM runs as "
                + System.getProperty("user.name"));
        Libc libc = libc();
        long length = 16 * PAGE;
        MemorySegment raw = libc.mmapAnonymous(length);
        try {
            long before = lockedKib();
            libc.mlock(raw.address(), length);
            assertEquals(before + 64, lockedKib(), "VmLck after mlock of 64 kB");
            libc.munlock(raw.address(), length);
            assertEquals(before, lockedKib(), "VmLck after munlock");
        } finally {
            libc.munmap(raw.address(), length);
        }
    }

    @Test
    void residentBytesCountsTouchedPagesOnly() {
        Libc libc = libc();
        long length = 4 * PAGE;
        MemorySegment raw = libc.mmapAnonymous(length); // not advised for huge pages: faults come one 4 KiB page at a time
        try {
            MemorySegment mem = raw.reinterpret(length);
            assertEquals(0, libc.residentBytes(mem), "untouched anonymous memory");
            mem.set(ValueLayout.JAVA_BYTE, 2 * PAGE + 5, (byte) 1);
            assertEquals(PAGE, libc.residentBytes(mem), "one page written");
            assertEquals(0, libc.residentBytes(mem.asSlice(0, 2 * PAGE)));
            libc.mlock(mem.asSlice(3 * PAGE, PAGE));
            assertEquals(2 * PAGE, libc.residentBytes(mem), "mlock of a segment faults it in");
            if (Prefaulter.instance().populates()) { // Linux 5.14+
                libc.madvise(mem.asSlice(0, PAGE), Libc.MADV_POPULATE_WRITE);
                assertEquals(3 * PAGE, libc.residentBytes(mem), "MADV_POPULATE_WRITE faults it in");
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> libc.residentBytes(mem.asSlice(8)));
            assertTrue(e.getMessage().startsWith("mincore address: 0x") && e.getMessage().endsWith("(expected: a multiple of 4096)"),
                    e.getMessage());
        } finally {
            libc.munmap(raw.address(), length);
        }
    }

    @Test
    void niceCurrentThreadLowersThisThreadOnly() throws Exception {
        Libc libc = libc();
        java.util.concurrent.CompletableFuture<String> niced = new java.util.concurrent.CompletableFuture<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                libc.niceCurrentThread(19);
                niced.complete(Files.readString(Path.of("/proc/thread-self/stat")));
            } catch (Throwable e) {
                niced.completeExceptionally(e);
            }
        });
        t.join();
        assertEquals("19", statField(niced.get(), 19), "nice of the thread that asked");
        assertEquals("0", statField(Files.readString(Path.of("/proc/thread-self/stat")), 19), "this thread keeps its nice value");
    }

    /** Field {@code n} (1-based, as in proc(5)) of a stat line. */
    private static String statField(String stat, int n) {
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[n - 3];
    }

    @Test
    void strerrorGivesTheCLibraryText() {
        assertEquals("Invalid argument", libc().strerror(EINVAL));
        assertEquals("Cannot allocate memory", libc().strerror(12));
    }
}
