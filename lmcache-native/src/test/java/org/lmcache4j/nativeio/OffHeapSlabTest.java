package org.lmcache4j.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

@SuppressWarnings("restricted") // a nanosleep downcall that holds a slab's memory
class OffHeapSlabTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"1,4096", "4095,4096", "4096,4096", "4097,8192", "1048576,1048576", "1048577,1052672"})
    void sizeIsRoundedUpToWholePages(long requested, long expected) {
        try (OffHeapSlab slab = OffHeapSlab.allocate(requested, false)) {
            assertEquals(expected, slab.sizeBytes());
            assertEquals(expected, slab.segment().byteSize());
        }
    }

    @Test
    void nativeSlabIsPageAlignedZeroedAndMapped() {
        try (OffHeapSlab slab = OffHeapSlab.allocate(1 << 20, false)) {
            assertTrue(slab.nativeMapped());
            assertFalse(slab.locked(), "not pinned when not asked");
            assertEquals(0, slab.segment().address() % OffHeapSlab.PAGE_BYTES);
            assertEquals(-1, slab.segment().mismatch(MemorySegment.ofArray(new byte[1 << 20])), "zeroed");
            slab.segment().set(ValueLayout.JAVA_INT, (1 << 20) - 4, 42);
            assertEquals(42, slab.segment().get(ValueLayout.JAVA_INT, (1 << 20) - 4));
        }
    }

    @Test
    void pinnedSlabIsLocked() throws IOException {
        assumeTrue(LibcTest.runningAsRoot(), "mlock beyond ulimit -l needs root; this JVM runs as "
                + System.getProperty("user.name"));
        long before = LibcTest.lockedKib();
        try (OffHeapSlab slab = OffHeapSlab.allocate(256 * 1024, true)) {
            assertTrue(slab.nativeMapped());
            assertTrue(slab.locked());
            assertEquals(before + 256, LibcTest.lockedKib(), "VmLck while the pinned slab is open");
        }
        assertEquals(before, LibcTest.lockedKib(), "VmLck after close (munmap unlocks)");
    }

    @Test
    void closeIsIdempotent() {
        OffHeapSlab slab = OffHeapSlab.allocate(4096, false);
        assertFalse(slab.isClosed());
        slab.close();
        assertTrue(slab.isClosed());
        slab.close();
        assertTrue(slab.isClosed());
        assertEquals(4096, slab.sizeBytes(), "the size stays readable after close");
    }

    @Test
    void accessAfterCloseThrowsInsteadOfCrashing() {
        OffHeapSlab slab = OffHeapSlab.allocate(4096, true);
        MemorySegment segment = slab.segment();
        segment.set(ValueLayout.JAVA_LONG, 0, 7L);
        slab.close();
        assertFalse(segment.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_LONG, 0));
        assertThrows(IllegalStateException.class, () -> slab.segment().set(ValueLayout.JAVA_BYTE, 4095, (byte) 1));
        assertThrows(IllegalStateException.class, () -> segment.fill((byte) 0));
    }

    @Test
    void usableFromAnotherThread() throws InterruptedException {
        try (OffHeapSlab slab = OffHeapSlab.allocate(4096, false)) {
            Thread writer = Thread.ofPlatform().start(() -> slab.segment().set(ValueLayout.JAVA_INT, 0, 99));
            writer.join();
            assertEquals(99, slab.segment().get(ValueLayout.JAVA_INT, 0));
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void nonPositiveSizeRejected(long size) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OffHeapSlab.allocate(size, false));
        assertEquals("slab sizeBytes: " + size + " (expected: > 0)", e.getMessage());
    }

    @Test
    void sizeWhoseRoundingWouldOverflowIsRejected() {
        long largest = Long.MAX_VALUE - (OffHeapSlab.PAGE_BYTES - 1); // rounds up to the largest page multiple
        for (long size : new long[] {largest + 1, Long.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OffHeapSlab.allocate(size, false));
            assertEquals("slab sizeBytes: " + size + " (expected: at most 9223372036854771712)", e.getMessage());
        }
    }

    @Test
    void sizeBeyondTheAddressSpaceIsAnOutOfMemoryErrorNamingTheSize() {
        long size = 1L << 50; // 1 PiB: more than x86-64 user space, so mmap fails whatever the overcommit mode
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> OffHeapSlab.allocate(size, false));
        assertTrue(e.getMessage().startsWith("off-heap slab of 1125899906842624 bytes: mmap("), e.getMessage());
        assertTrue(e.getCause() instanceof NativeCallException nce && nce.errno() == 12, String.valueOf(e.getCause()));
    }

    /**
     * Regression: close() while a native call held the memory threw (the arena was in use) but still
     * marked the slab closed, so the mapping (and its mlock) leaked and a later close() did nothing.
     */
    @Test
    void closeRejectedWhileANativeCallHoldsTheMemoryCanBeRetried() throws Exception {
        Linker linker = Linker.nativeLinker();
        MethodHandle nanosleep = linker.downcallHandle(linker.defaultLookup().find("nanosleep").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        OffHeapSlab slab = OffHeapSlab.allocate(4096, false);
        MemorySegment timespec = slab.segment();
        timespec.set(ValueLayout.JAVA_LONG, 0, 1L); // tv_sec: the call holds the slab for 1 s
        timespec.set(ValueLayout.JAVA_LONG, 8, 0L); // tv_nsec
        CountDownLatch calling = new CountDownLatch(1);
        CompletableFuture<Integer> sleeping = new CompletableFuture<>();
        Thread.ofPlatform().name("nanosleep-on-slab").start(() -> {
            try {
                calling.countDown();
                sleeping.complete((int) nanosleep.invokeExact(timespec, MemorySegment.NULL));
            } catch (Throwable t) {
                sleeping.completeExceptionally(t);
            }
        });
        assertTrue(calling.await(10, TimeUnit.SECONDS));
        Thread.sleep(200); // well inside the 1 s call
        IllegalStateException busy = assertThrows(IllegalStateException.class, slab::close);
        assertTrue(busy.getMessage().contains("acquired"), busy.getMessage());
        assertFalse(slab.isClosed(), "a close that did not free the memory leaves the slab open");
        assertEquals(1L, slab.segment().get(ValueLayout.JAVA_LONG, 0), "memory still valid");

        assertEquals(0, sleeping.get(10, TimeUnit.SECONDS));
        slab.close();
        assertTrue(slab.isClosed());
        assertFalse(timespec.scope().isAlive(), "the retried close freed the memory");
    }
}
