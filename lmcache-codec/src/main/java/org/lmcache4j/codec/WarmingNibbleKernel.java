package org.lmcache4j.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Vector API's kernel once the JIT has compiled it, the scalar one until then. Before C2 compiles it, a
 * vector kernel runs in the interpreter, each vector an object: the first disk read of 41 MiB of
 * {@code shuffle+nibble} chunks in a new process took 1.1-1.4 s, against 13-16 ms once compiled. So a
 * daemon thread decodes a made-up block until its decodes run compiled (about a second of one core, once
 * per process), and only then do reads use it; where they never do within {@value #MAX_WARM_UP_NANOS} ns,
 * reads stay on the scalar kernel. It starts when a process first encodes or decodes with
 * the codec ({@link #prepare}), not when the codec is loaded: every process that reads any encoded chunk
 * loads every codec on the path.
 */
final class WarmingNibbleKernel implements NibbleKernel {

    private static final Logger LOG = LoggerFactory.getLogger(WarmingNibbleKernel.class);

    /** Elements of the made-up block. */
    private static final int ELEMENTS = 16 << 10;
    /**
     * How long the warm-up may take: where the vector kernel is not fast by then (a JVM whose C2 cannot
     * compile it to vector instructions, or with C2 off), decodes stay on the scalar kernel.
     */
    private static final long MAX_WARM_UP_NANOS = 10_000_000_000L;
    /** Decodes in a row at compiled speed after which the kernel counts as compiled. */
    private static final int FAST_IN_A_ROW = 8;
    /**
     * A decode of the block this fast or faster (ns) counts as compiled: 2 GB/s, a fifth of the compiled
     * speed measured here, a hundred times the interpreted one.
     */
    private static final long COMPILED_NANOS = 2L * ELEMENTS / 2;

    private final NibbleKernel vector;
    private final long maxWarmUpNanos;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CountDownLatch warmedUp = new CountDownLatch(1);
    private volatile boolean ready;

    WarmingNibbleKernel(NibbleKernel vector) {
        this(vector, MAX_WARM_UP_NANOS);
    }

    /** @param maxWarmUpNanos how long the warm-up may take (tests shorten it) */
    WarmingNibbleKernel(NibbleKernel vector, long maxWarmUpNanos) {
        this.vector = vector;
        this.maxWarmUpNanos = maxWarmUpNanos;
    }

    /** Starts the warm-up, once. */
    @Override
    public void prepare() {
        if (!started.get() && !started.getAndSet(true)) { // a read before the write: called on every decode
            Thread.ofPlatform().daemon().name("lmcache-codec-warmup").start(this::warmUp);
        }
    }

    /** True once reads use the vector kernel. */
    boolean ready() {
        return ready;
    }

    /** Waits until the warm-up has ended, either way, at most {@code millis}; true when it has. */
    boolean awaitWarmUp(long millis) throws InterruptedException {
        return warmedUp.await(millis, TimeUnit.MILLISECONDS);
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
            long start = System.nanoTime();
            while (fast < FAST_IN_A_ROW && System.nanoTime() - start < maxWarmUpNanos) {
                long t0 = System.nanoTime();
                vector.decodePairs(stored, block, ELEMENTS / NibbleCoding.GROUP, rest);
                fast = System.nanoTime() - t0 <= COMPILED_NANOS ? fast + 1 : 0;
            }
            ready = fast == FAST_IN_A_ROW;
            if (!ready) {
                LOG.info("shuffle+nibble decodes on its scalar kernel: the Vector API's did not reach {} GB/s in {} s of warm-up"
                        + " (a JVM that does not compile it to vector instructions)", 2L * ELEMENTS / COMPILED_NANOS,
                        maxWarmUpNanos / 1e9);
            }
        } catch (RuntimeException | Error e) {
            LOG.warn("shuffle+nibble decodes on its scalar kernel: the Vector API's failed in its warm-up", e);
        } finally {
            warmedUp.countDown();
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
