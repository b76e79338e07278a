package org.lmcache4j.examples.demo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvLayout;

/**
 * The baseline of a cpu-tier hit: {@code MemorySegment.copy} of the same number of bytes from off-heap
 * memory touched once at construction into the engine's KV memory (touched at the engine's construction),
 * one bulk copy per layer and plane, so neither side pays a page fault. That is the physical limit of
 * moving the bytes; the retrieve also scatters them to the request's blocks and reads them from the cpu
 * tier's chunk pages.
 */
final class RawCopy implements AutoCloseable {

    /** Copies per measurement; the median is reported. */
    static final int REPEATS = 3;

    private static final long PAGE_BYTES = 4096;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment source;

    /** A source of {@code maxBytes}, touched now. */
    RawCopy(long maxBytes) {
        boolean ok = false;
        try {
            source = arena.allocate(Math.max(1, maxBytes), PAGE_BYTES);
            for (long at = 0; at < source.byteSize(); at += PAGE_BYTES) {
                source.set(ValueLayout.JAVA_BYTE, at, (byte) 1);
            }
            ok = true;
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    /**
     * Copies the KV of {@code tokens} tokens into slots {@code 0 .. tokens-1} of {@code kv}, {@link #REPEATS}
     * times, and returns the median. Overwrites those slots: call it only while no request holds them.
     */
    RawBaseline measure(HostKvMemory kv, int tokens) {
        KvLayout layout = kv.layout();
        long planeBytes = (long) tokens * layout.rowBytes();
        long bytes = (long) tokens * layout.bytesPerToken();
        if (bytes > source.byteSize() || tokens > kv.numSlots()) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: at most " + source.byteSize() / layout.bytesPerToken()
                    + " for the baseline's source and " + kv.numSlots() + " engine slots)");
        }
        int planes = layout.planes();
        double[] nanos = new double[REPEATS];
        for (int r = 0; r < REPEATS; r++) {
            long t0 = System.nanoTime();
            long from = 0;
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                for (int plane = 0; plane < planes; plane++) {
                    MemorySegment.copy(source, from, kv.plane(layer, plane), 0, planeBytes);
                    from += planeBytes;
                }
            }
            nanos[r] = System.nanoTime() - t0;
        }
        Arrays.sort(nanos);
        return new RawBaseline(nanos[REPEATS / 2] / 1e6, bytes, String.format(Locale.ROOT,
                "MemorySegment.copy of the same bytes from touched off-heap memory into the engine's KV memory, one copy per "
                        + "layer and plane (%d copies of %,d bytes), median of %d", layout.numLayers() * planes, planeBytes, REPEATS),
                "", "");
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
