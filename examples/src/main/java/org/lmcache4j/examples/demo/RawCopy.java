package org.lmcache4j.examples.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvLayout;

/**
 * The baseline of a hit: {@code MemorySegment.copy} of the same bytes from memory of the kind the hit is copied from
 * (off-heap memory for a cpu-tier hit, a file in shared memory for a pool hit: {@link #inFile}), touched once at
 * construction, into the same slots of the engine's KV memory (touched at the engine's
 * construction) that the retrieve wrote, so neither side pays a page fault: the plain way to put those
 * bytes where the engine needs them. The engine's memory is paged (16-token blocks, in shuffled order),
 * so that is one copy per block per layer and plane, as the retrieve does; a copy of the same bytes in one
 * piece per layer and plane, the limit for unpaged memory, is measured too and named in the method text.
 *
 * <p>Before each timed copy it reads {@value #EVICTION_BYTES} bytes of other memory, so the copy starts
 * with the CPU's caches holding none of its bytes, as the retrieve does (it follows a prefill that streams
 * the weights through them). Without that, the copy found the slots the retrieve had just written still in
 * the last-level cache whenever they fit: for the 22.5 MiB of a two-chunk chat hit, an in-process probe
 * measured the copy at 2.2 ms with the slots cached and 2.8 ms without, against 3.4 ms for the retrieve.
 */
final class RawCopy implements AutoCloseable {

    /** Copies per measurement; the median is reported. */
    static final int REPEATS = 3;

    private static final long PAGE_BYTES = 4096;

    /** Memory read before each copy to push its bytes out of the caches: several times any last-level cache here. */
    static final long EVICTION_BYTES = 128L << 20;
    private static final long CACHE_LINE = 64;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment source;
    private final String sourceText;
    private final Path sourceFile; // null: the source is anonymous memory
    private final MemorySegment eviction;
    /** Where the eviction's reads go, so that the JIT keeps them. */
    private volatile long evictionSum;

    /** A source of {@code maxBytes} of off-heap memory, touched now: the baseline of a cpu-tier hit. */
    RawCopy(long maxBytes) {
        this(maxBytes, null);
    }

    /**
     * A source of {@code maxBytes} in a new file at {@code file}, mapped and touched now, deleted at close: with the
     * file in shared memory beside the node-shared pool, the same place a pool hit is copied from (tmpfs pages, of
     * 4 KiB where the kernel gives shared memory no huge pages).
     */
    static RawCopy inFile(long maxBytes, Path file) {
        return new RawCopy(maxBytes, file);
    }

    private RawCopy(long maxBytes, Path file) {
        boolean ok = false;
        try {
            if (file == null) {
                source = arena.allocate(Math.max(1, maxBytes), PAGE_BYTES);
                sourceText = "touched off-heap memory";
            } else {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE)) {
                    source = ch.map(FileChannel.MapMode.READ_WRITE, 0, Math.max(1, maxBytes), arena);
                }
                sourceText = "a touched mapping of a file in " + file.getParent() + " (the pool's shared memory)";
            }
            sourceFile = file;
            for (long at = 0; at < source.byteSize(); at += PAGE_BYTES) {
                source.set(ValueLayout.JAVA_BYTE, at, (byte) 1);
            }
            eviction = arena.allocate(EVICTION_BYTES, PAGE_BYTES);
            eviction.fill((byte) 1);
            ok = true;
        } catch (IOException e) {
            throw new UncheckedIOException("the raw baseline's source " + file + ": " + e.getMessage(), e);
        } finally {
            if (!ok) {
                arena.close();
                deleteSourceFile(file);
            }
        }
    }

    private static void deleteSourceFile(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                System.err.println("could not delete " + file + ": " + e.getMessage());
            }
        }
    }

    /**
     * Copies the KV of {@code tokens} tokens into the engine's KV memory at {@code slots} (the slots the
     * retrieve wrote), {@link #REPEATS} times, and returns the median: per layer and plane, one
     * {@code MemorySegment.copy} per run of consecutive slots, on this thread. The method text also gives
     * the time of the same bytes copied in one piece per layer and plane into slots {@code 0..tokens-1},
     * the limit for memory that is not paged. Overwrites those slots: call it only while no request holds
     * them.
     */
    RawBaseline measure(HostKvMemory kv, int[] slots, int tokens) {
        KvLayout layout = kv.layout();
        long bytes = (long) tokens * layout.bytesPerToken();
        if (bytes > source.byteSize() || tokens > kv.numSlots() || tokens > slots.length) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: at most " + source.byteSize() / layout.bytesPerToken()
                    + " for the baseline's source, " + kv.numSlots() + " engine slots and " + slots.length + " slots given)");
        }
        double scattered = median(() -> scatter(kv, slots, tokens));
        double bulk = median(() -> bulk(kv, tokens));
        return new RawBaseline(scattered / 1e6, bytes, String.format(Locale.ROOT,
                "MemorySegment.copy of the same bytes from " + sourceText + " into the same slots of the engine's KV memory, "
                        + "one copy per run of consecutive slots per layer and plane (%,d copies), one thread, CPU caches evicted before "
                        + "each copy (a read of %d MiB of other memory), median of %d; "
                        + "the same bytes in one copy per layer and plane into consecutive slots took %.1f ms",
                runs(slots, tokens) * layout.numLayers() * layout.planes(), EVICTION_BYTES >> 20, REPEATS, bulk / 1e6), "", "");
    }

    private void scatter(HostKvMemory kv, int[] slots, int tokens) {
        KvLayout layout = kv.layout();
        long row = layout.rowBytes();
        long from = 0;
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            for (int plane = 0; plane < layout.planes(); plane++) {
                MemorySegment target = kv.plane(layer, plane);
                for (int t = 0; t < tokens; ) {
                    int run = 1;
                    while (t + run < tokens && slots[t + run] == slots[t] + run) {
                        run++;
                    }
                    MemorySegment.copy(source, from, target, slots[t] * row, run * row);
                    from += run * row;
                    t += run;
                }
            }
        }
    }

    private void bulk(HostKvMemory kv, int tokens) {
        KvLayout layout = kv.layout();
        long planeBytes = (long) tokens * layout.rowBytes();
        long from = 0;
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            for (int plane = 0; plane < layout.planes(); plane++) {
                MemorySegment.copy(source, from, kv.plane(layer, plane), 0, planeBytes);
                from += planeBytes;
            }
        }
    }

    private static int runs(int[] slots, int tokens) {
        int runs = tokens > 0 ? 1 : 0;
        for (int t = 1; t < tokens; t++) {
            if (slots[t] != slots[t - 1] + 1) {
                runs++;
            }
        }
        return runs;
    }

    private double median(Runnable copy) {
        double[] nanos = new double[REPEATS];
        for (int r = 0; r < REPEATS; r++) {
            evictCaches();
            long t0 = System.nanoTime();
            copy.run();
            nanos[r] = System.nanoTime() - t0;
        }
        Arrays.sort(nanos);
        return nanos[REPEATS / 2];
    }

    /**
     * Reads one long per cache line of {@link #eviction}: what the caches held before is gone after. Also what a
     * repeated retrieve does first ({@link RetrieveRepeats}), so that both sides of the ratio start alike.
     */
    void evictCaches() {
        long sum = 0;
        for (long at = 0; at < eviction.byteSize(); at += CACHE_LINE) {
            sum += eviction.get(ValueLayout.JAVA_LONG, at);
        }
        evictionSum = sum;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
            deleteSourceFile(sourceFile);
        }
    }
}
