package org.lmcache4j.nativeio;

import java.lang.foreign.ValueLayout;

/**
 * Run by {@link NativeProbeTest} in a child JVM: allocates two pinned slabs, uses them, and prints one
 * line per slab with how it was made. Not a test itself (surefire runs only {@code *Test} classes).
 */
public final class FallbackSlabMain {

    private FallbackSlabMain() {
    }

    public static void main(String[] args) {
        System.out.println("libcPresent=" + Libc.instance().isPresent());
        for (int i = 0; i < 2; i++) {
            try (OffHeapSlab slab = OffHeapSlab.allocate(5000, true)) {
                slab.segment().set(ValueLayout.JAVA_LONG, slab.sizeBytes() - 8, i + 1L);
                long back = slab.segment().get(ValueLayout.JAVA_LONG, slab.sizeBytes() - 8);
                System.out.println("slab" + i + " nativeMapped=" + slab.nativeMapped() + " locked=" + slab.locked()
                        + " sizeBytes=" + slab.sizeBytes() + " aligned=" + (slab.segment().address() % OffHeapSlab.PAGE_BYTES == 0)
                        + " readBack=" + back);
            }
        }
    }
}
