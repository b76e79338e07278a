package org.lmcache4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;

/**
 * How memory that was touched and then left alone behaves on this machine: 180 MiB is touched, left idle
 * for 0 to 30 s, then a copy is made into it twice; printed: the first copy's time and the second's. On a
 * machine that keeps touched memory resident both are the same whatever the idle time; on a virtual
 * machine whose host reclaims guest memory nobody touches, the first copy after a long idle is slower
 * (each page is faulted back in by the host, which the guest does not see as a fault).
 *
 * <p>Why it matters: the cpu tier faults its pages in ahead of use, at open; a hit seconds or minutes
 * later writes into those pages. Run: {@code java -cp lmcache-bench/target/classes
 * org.lmcache4j.bench.IdleMemoryProbe [idle seconds...]} (default 0 1 5 15 30).
 */
public final class IdleMemoryProbe {

    private static final long BYTES = 180L << 20;

    private IdleMemoryProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        int[] idle = args.length > 0 ? Arrays.stream(args).mapToInt(Integer::parseInt).toArray() : new int[] {0, 1, 5, 15, 30};
        try (Arena arena = Arena.ofShared()) {
            MemorySegment source = arena.allocate(BYTES, 4096);
            source.fill((byte) 2);
            for (int seconds : idle) {
                try (Arena target = Arena.ofConfined()) {
                    MemorySegment into = target.allocate(BYTES, 4096);
                    into.fill((byte) 1); // touched: faulted in
                    Thread.sleep(seconds * 1000L);
                    long t0 = System.nanoTime();
                    MemorySegment.copy(source, 0, into, 0, BYTES);
                    long t1 = System.nanoTime();
                    MemorySegment.copy(source, 0, into, 0, BYTES);
                    long t2 = System.nanoTime();
                    System.out.printf(Locale.ROOT, "idle %3d s: copy of 180 MiB into touched memory: first %.1f ms, again %.1f ms%n",
                            seconds, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
                }
            }
        }
    }
}
