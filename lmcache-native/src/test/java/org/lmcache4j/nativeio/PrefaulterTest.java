package org.lmcache4j.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PrefaulterTest {

    private static final long SIZE = 8L << 20;

    private static Libc libc() {
        return Libc.instance().orElseThrow(() -> new AssertionError("Libc.instance() is empty on Linux"));
    }

    /** Prefaults an untouched 8 MiB slab holding two marks; checks it is all resident afterwards and the marks kept. */
    private static Prefaulter.Method prefaultAndCheck(Prefaulter prefaulter, boolean pin) {
        try (OffHeapSlab slab = OffHeapSlab.map(SIZE)) {
            MemorySegment memory = slab.segment();
            memory.set(ValueLayout.JAVA_LONG, 0, 0x0123_4567_89ab_cdefL);
            memory.set(ValueLayout.JAVA_LONG, SIZE - 8, 42L);
            long before = libc().residentBytes(memory);
            assertTrue(before < SIZE, "only the marked pages are resident before: " + before + " bytes");
            Prefaulter.Method method = prefaulter.prefault(memory, pin);
            assertEquals(SIZE, libc().residentBytes(memory), "resident after prefault by " + method);
            assertEquals(0x0123_4567_89ab_cdefL, memory.get(ValueLayout.JAVA_LONG, 0), "contents unchanged");
            assertEquals(42L, memory.get(ValueLayout.JAVA_LONG, SIZE - 8), "contents unchanged");
            assertEquals(0L, memory.get(ValueLayout.JAVA_LONG, SIZE / 2), "still zero");
            return method;
        }
    }

    @Test
    void populateMakesTheRangeResidentWithoutPinning() {
        assumeTrue(Prefaulter.instance().populates(), "this kernel has no MADV_POPULATE_WRITE (Linux 5.14+)");
        assertEquals(Prefaulter.Method.POPULATED, prefaultAndCheck(new Prefaulter(Libc.instance(), true, true), false));
    }

    @Test
    void pinningIsMlockWhereAllowedAndResidentEitherWay() {
        Prefaulter.Method method = prefaultAndCheck(new Prefaulter(Libc.instance(), true, true), true);
        if (LibcTest.runningAsRoot()) {
            assertEquals(Prefaulter.Method.LOCKED, method, "root may lock beyond ulimit -l");
        }
    }

    @Test
    void withoutMlockAPinnedRangeIsPopulatedOrTouched() {
        Prefaulter.Method method = prefaultAndCheck(new Prefaulter(Libc.instance(), Prefaulter.instance().populates(), false), true);
        assertEquals(Prefaulter.instance().populates() ? Prefaulter.Method.POPULATED : Prefaulter.Method.TOUCHED, method);
    }

    @Test
    void withoutPopulateOrLibcEveryPageIsTouched() {
        assertEquals(Prefaulter.Method.TOUCHED, prefaultAndCheck(new Prefaulter(Libc.instance(), false, false), true));
        assertEquals(Prefaulter.Method.TOUCHED, prefaultAndCheck(new Prefaulter(Optional.empty(), true, true), true),
                "no libc: neither mlock nor madvise can be called");
    }

    @Test
    void unalignedRangesAreRejectedAndFreedMemoryThrows() {
        Prefaulter prefaulter = Prefaulter.instance();
        OffHeapSlab slab = OffHeapSlab.map(3 * OffHeapSlab.PAGE_BYTES);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> prefaulter.prefault(slab.segment().asSlice(64, OffHeapSlab.PAGE_BYTES), false));
        assertTrue(e.getMessage().startsWith("prefault range: 0x") && e.getMessage().endsWith(
                " + 4096 bytes (expected: address and size multiples of 4096)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> prefaulter.prefault(slab.segment().asSlice(0, 100), false));
        slab.close();
        assertThrows(IllegalStateException.class, () -> prefaulter.prefault(slab.segment(), false));
        assertThrows(IllegalStateException.class, () -> new Prefaulter(Libc.instance(), false, false).prefault(slab.segment(), false));
    }

    @Test
    void writeOnceByKernelZeroesTheWholeRangeAndMakesItResident() {
        try (OffHeapSlab slab = OffHeapSlab.map(SIZE + 3 * OffHeapSlab.PAGE_BYTES)) {
            MemorySegment memory = slab.segment().asSlice(OffHeapSlab.PAGE_BYTES, SIZE + OffHeapSlab.PAGE_BYTES); // not a step multiple
            memory.fill((byte) 0x5a);
            slab.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 7); // the page before
            slab.segment().set(ValueLayout.JAVA_BYTE, slab.segment().byteSize() - 1, (byte) 9); // the page after
            assertTrue(Prefaulter.instance().writeOnceByKernel(memory), "/dev/zero is readable on Linux");
            assertEquals(-1, memory.mismatch(MemorySegment.ofArray(new byte[(int) memory.byteSize()])), "all zeros");
            assertEquals(7, slab.segment().get(ValueLayout.JAVA_BYTE, 0), "nothing written before the range");
            assertEquals(9, slab.segment().get(ValueLayout.JAVA_BYTE, slab.segment().byteSize() - 1), "nothing written after it");
            assertEquals(memory.byteSize(), libc().residentBytes(memory));
        }
        OffHeapSlab closed = OffHeapSlab.map(OffHeapSlab.PAGE_BYTES);
        closed.close();
        assertThrows(IllegalStateException.class, () -> Prefaulter.instance().writeOnceByKernel(closed.segment()));
    }
}
