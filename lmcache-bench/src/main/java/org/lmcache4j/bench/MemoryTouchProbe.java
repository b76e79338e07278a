package org.lmcache4j.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import org.lmcache4j.nativeio.Libc;
import org.lmcache4j.nativeio.OffHeapSlab;
import org.lmcache4j.nativeio.Prefaulter;

/**
 * Two facts about memory on this machine that decide what a cache hit costs, each printed as times of
 * 180 MiB (a 4,096-token prompt of the demo's model):
 * <ol>
 *   <li><b>The kernel's first write.</b> A file in the page cache is read into memory made resident in
 *       several ways, in 4 KiB pages (the JVM's allocation) and with huge pages advised (as the cpu tier's
 *       slabs are): {@code mlock}, {@code MADV_POPULATE_WRITE}, a write per 4 KiB page, a read of
 *       {@code /dev/zero} into it (the kernel writes every page); then read again. Where the hypervisor
 *       keeps the kernel's view of user memory apart (shadow paging), a first write by the kernel to a page
 *       costs a trip to the host. A disk-tier hit is such a read into cpu-tier pages.</li>
 *   <li><b>Idle memory.</b> Memory touched, then left alone 0 to 30 s, then copied into twice, in 4 KiB
 *       pages and with huge pages advised: on a virtual machine whose host reclaims guest memory nobody
 *       touches, the first copy after an idle is slower (the host faults pages back in, unseen by the
 *       guest).</li>
 * </ol>
 * Run: {@code java --enable-native-access=ALL-UNNAMED -cp "lmcache-bench/target/classes:lmcache-bench/target/lib/*"
 * org.lmcache4j.bench.MemoryTouchProbe [kernel|idle]} (default: both).
 */
public final class MemoryTouchProbe {

    private static final long BYTES = 180L << 20;
    private static final long PAGE = 4096;

    private MemoryTouchProbe() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        String what = args.length > 0 ? args[0] : "both";
        if (!what.equals("idle")) {
            kernelFirstWrite();
        }
        if (!what.equals("kernel")) {
            idle(new int[] {0, 1, 5, 15, 30});
        }
    }

    private static void kernelFirstWrite() throws IOException {
        Libc libc = Libc.instance().orElseThrow(() -> new IllegalStateException("needs Linux with libc"));
        Path file = Files.createTempFile("memory-touch", ".bin");
        try (Arena arena = Arena.ofShared()) {
            MemorySegment source = arena.allocate(BYTES, PAGE);
            source.fill((byte) 2);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ByteBuffer b = source.asByteBuffer();
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
            read(file, source); // the file is in the page cache from here on
            for (String how : new String[] {"4 KiB pages, zeroed by the JVM", "4 KiB pages, then a /dev/zero read"}) {
                try (Arena plain = Arena.ofConfined()) {
                    MemorySegment memory = plain.allocate(BYTES, PAGE); // the JVM zeroes it: every page written once
                    long t0 = System.nanoTime();
                    if (how.endsWith("read")) {
                        Prefaulter.instance().writeOnceByKernel(memory);
                    }
                    report(how, t0, file, memory);
                }
            }
            for (String how : new String[] {"huge pages advised, mlock", "huge pages advised, MADV_POPULATE_WRITE",
                    "huge pages advised, a write per page", "huge pages advised, a /dev/zero read"}) {
                try (OffHeapSlab slab = OffHeapSlab.map(BYTES)) { // mapped with MADV_HUGEPAGE, not touched
                    MemorySegment memory = slab.segment();
                    long t0 = System.nanoTime();
                    if (how.endsWith("mlock")) {
                        libc.mlock(memory);
                    } else if (how.endsWith("WRITE")) {
                        libc.madvise(memory, Libc.MADV_POPULATE_WRITE);
                    } else if (how.endsWith("page")) {
                        for (long at = 0; at < BYTES; at += PAGE) {
                            memory.set(ValueLayout.JAVA_BYTE, at, (byte) 0);
                        }
                    } else {
                        Prefaulter.instance().writeOnceByKernel(memory);
                    }
                    report(how, t0, file, memory);
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static void report(String how, long startNanos, Path file, MemorySegment memory) throws IOException {
        long t1 = System.nanoTime();
        read(file, memory);
        long t2 = System.nanoTime();
        read(file, memory);
        long t3 = System.nanoTime();
        System.out.printf(Locale.ROOT, "%-42s made resident in %6.1f ms; read of a cached file into it: first %6.1f ms, again %6.1f ms%n",
                how, (t1 - startNanos) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6);
    }

    /**
     * Per idle time: two targets touched, one in 4 KiB pages (the JVM's allocation), one mapped with huge
     * pages advised before the touch (as the cpu tier's slabs and the reference engine's KV pool); both left
     * alone, then the source written again (so only the target has been idle) and copied into each, twice.
     */
    private static void idle(int[] seconds) throws InterruptedException {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment source = arena.allocate(BYTES, PAGE);
            for (int s : seconds) {
                try (Arena target = Arena.ofConfined(); OffHeapSlab huge = OffHeapSlab.map(BYTES)) {
                    MemorySegment small = target.allocate(BYTES, PAGE);
                    small.fill((byte) 1); // touched: faulted in
                    huge.segment().fill((byte) 1);
                    Thread.sleep(s * 1000L);
                    source.fill((byte) 2); // in use again: only the targets have been idle
                    double[] smallMs = copyTwice(source, small);
                    double[] hugeMs = copyTwice(source, huge.segment());
                    System.out.printf(Locale.ROOT, "idle %3d s: copy into touched memory: 4 KiB pages first %6.1f ms, again %6.1f ms;"
                            + " huge pages advised first %6.1f ms, again %6.1f ms%n", s, smallMs[0], smallMs[1], hugeMs[0], hugeMs[1]);
                }
            }
        }
    }

    private static double[] copyTwice(MemorySegment source, MemorySegment into) {
        long t0 = System.nanoTime();
        MemorySegment.copy(source, 0, into, 0, BYTES);
        long t1 = System.nanoTime();
        MemorySegment.copy(source, 0, into, 0, BYTES);
        long t2 = System.nanoTime();
        return new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6};
    }

    /** Reads {@code file} into {@code into} in 256 KiB reads, as the disk tier does. */
    private static void read(Path file, MemorySegment into) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (long at = 0; at < into.byteSize(); at += 256 << 10) {
                ByteBuffer b = into.asSlice(at, Math.min(256 << 10, into.byteSize() - at)).asByteBuffer();
                for (long pos = at; b.hasRemaining(); ) {
                    int n = ch.read(b, pos);
                    if (n < 0) {
                        throw new IOException(file + ": ended early");
                    }
                    pos += n;
                }
            }
        }
    }
}
