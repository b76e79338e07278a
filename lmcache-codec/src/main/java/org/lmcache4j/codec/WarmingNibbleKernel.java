package org.lmcache4j.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * The Vector API's kernel once the JIT has compiled it, the scalar one until then. Before C2 compiles it, a
 * vector kernel runs in the interpreter, each vector an object: the first disk read of 41 MiB of
 * {@code shuffle+nibble} chunks in a new process took 1.1-1.4 s, against 13-16 ms once compiled. So a
 * daemon thread decodes a made-up block until its decodes run compiled (about a second of one core, once
 * per process), and only then do reads use it. It starts when a process first encodes or decodes with
 * the codec ({@link #prepare}), not when the codec is loaded: every process that reads any encoded chunk
 * loads every codec on the path.
 */
final class WarmingNibbleKernel implements NibbleKernel {

    /** Elements of the made-up block. */
    private static final int ELEMENTS = 16 << 10;
    /** Decodes of it after which the kernel counts as compiled whatever their speed (a slow machine, a busy one). */
    private static final int MAX_ROUNDS = 20_000;
    /**
     * A decode of the block this fast or faster (ns) counts as compiled: 2 GB/s, a fifth of the compiled
     * speed measured here, a hundred times the interpreted one.
     */
    private static final long COMPILED_NANOS = 2L * ELEMENTS / 2;

    private final NibbleKernel vector;
    private final java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean ready;

    WarmingNibbleKernel(NibbleKernel vector) {
        this.vector = vector;
    }

    /** Starts the warm-up, once. */
    @Override
    public void prepare() {
        if (!started.getAndSet(true)) {
            Thread.ofPlatform().daemon().name("lmcache-codec-warmup").start(this::warmUp);
        }
    }

    /** True once reads use the vector kernel. */
    boolean ready() {
        return ready;
    }

    private void warmUp() {
        try (Arena arena = Arena.ofConfined()) {
            long rest = NibbleCoding.restAt(ELEMENTS);
            MemorySegment stored = arena.allocate(rest + ELEMENTS);
            MemorySegment block = arena.allocate(2L * ELEMENTS);
            SplittableRandom random = new SplittableRandom(1);
            for (long i = 0; i < stored.byteSize(); i++) {
                stored.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
            }
            int fast = 0;
            for (int round = 0; round < MAX_ROUNDS && fast < 8; round++) {
                long t0 = System.nanoTime();
                vector.decodePairs(stored, block, ELEMENTS / NibbleCoding.GROUP, rest);
                fast = System.nanoTime() - t0 <= COMPILED_NANOS ? fast + 1 : 0;
            }
        } finally {
            ready = true;
        }
    }

    @Override
    public void decodePairs(MemorySegment stored, MemorySegment block, int groups, long restAt) {
        (ready ? vector : SCALAR).decodePairs(stored, block, groups, restAt);
    }

    @Override
    public String name() {
        return vector.name();
    }
}
