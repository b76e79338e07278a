package org.lmcache4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;

/**
 * What writing chunks to the disk tier costs an engine that computes on every core, against what the writing
 * thread's own CPU time explains. One compute thread per core runs arithmetic while a third thread either does
 * nothing, writes 256-token chunks of the reference engine's KV into a real disk tier (checksum, page cache,
 * {@code fsync}, as the write-behind does) at a fixed rate, or does the same checksum and copy in memory at the
 * same rate with no I/O. The loss is the compute lost against the phases with nothing: if the writing thread's
 * CPU were the whole cost, the loss would be about its share of a core divided by the compute threads; what
 * exceeds that is work the machine does for the writes outside this process's threads (on a virtual machine,
 * the host's emulation of the disk running on the cores the guest's CPUs share).
 *
 * <p>Phases run in the order nothing, write, copy, copy, write, nothing in each round, so that a drift of the
 * machine's speed weighs on every kind alike; each figure is the median over the rounds with every round's value.
 */
public final class WriteCostProbe {

    /** The reference engine's KV (SmolLM-135M shape, fp32): chunks of 11.25 MiB, as the miss-only workload writes. */
    static final KvLayout LAYOUT = KvLayout.standard(30, 3, 64, KvDtype.FP32);

    private static final long CHUNK_BYTES = 256L * LAYOUT.bytesPerToken();

    private enum Load { NONE, WRITE, COPY }

    private static final Load[] ROUND = {Load.NONE, Load.WRITE, Load.COPY, Load.COPY, Load.WRITE, Load.NONE};

    /** One phase: compute work done, the load thread's CPU nanoseconds, bytes it moved, wall nanoseconds. */
    private record Phase(Load load, long work, long loadCpuNanos, long bytes, long nanos) {
    }

    private final Path dir;
    private final double mibPerSecond;
    private final int rounds;
    private final long phaseNanos;
    private final int computeThreads = Runtime.getRuntime().availableProcessors();
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private long nextKey;

    private WriteCostProbe(Path dir, double mibPerSecond, int rounds, double phaseSeconds) {
        if (!(mibPerSecond > 0) || rounds < 1 || !(phaseSeconds > 0)) {
            throw new IllegalArgumentException("mibPerSecond " + mibPerSecond + ", rounds " + rounds + ", phaseSeconds " + phaseSeconds
                    + " (expected: a rate > 0, at least one round, a phase > 0 s)");
        }
        this.dir = dir;
        this.mibPerSecond = mibPerSecond;
        this.rounds = rounds;
        this.phaseNanos = (long) (phaseSeconds * 1e9);
    }

    /**
     * Runs {@code rounds} rounds of phases of {@code phaseSeconds} each, writing at {@code mibPerSecond} into a disk
     * tier under {@code dir}, told {@code progress} before each phase; the report's fields are described in
     * docs/PERFORMANCE.md ("Write-behind and the engine").
     */
    public static Map<String, Object> run(Path dir, double mibPerSecond, int rounds, double phaseSeconds, Consumer<String> progress) {
        return new WriteCostProbe(dir, mibPerSecond, rounds, phaseSeconds).run(progress);
    }

    private Map<String, Object> run(Consumer<String> progress) {
        CacheIdentity identity = new CacheIdentity(new CacheNamespace("write-cost-" + UUID.randomUUID(), LAYOUT.fingerprint(), "", 0, 1),
                256, HashAlgorithm.SHA_256);
        String url = dir.toUri() + "?capacity=1g"; // a put forces its file to the device, as the connector's disk tier does
        List<Phase> phases = new ArrayList<>();
        try (Arena arena = Arena.ofShared(); StorageTier tier = StorageTiers.open(url, identity, new TierOptions(CHUNK_BYTES, 1L << 30, LAYOUT))) {
            MemorySegment chunk = arena.allocate(CHUNK_BYTES, 4096);
            MemorySegment copyTarget = arena.allocate(CHUNK_BYTES, 4096);
            SplittableRandom random = new SplittableRandom(7);
            for (long i = 0; i < CHUNK_BYTES; i += 8) {
                chunk.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
            }
            copyTarget.fill((byte) 1); // touched once: the copy phases move bytes, they do not fault pages in
            runPhase(Load.WRITE, tier, chunk, copyTarget, phaseNanos / 4); // warm-up: the JIT, the tier's first files
            for (int r = 1; r <= rounds; r++) {
                for (Load load : ROUND) {
                    progress.accept("round " + r + "/" + rounds + ": " + load.name().toLowerCase(java.util.Locale.ROOT));
                    phases.add(runPhase(load, tier, chunk, copyTarget, phaseNanos));
                }
            }
            tier.clear();
        }
        return report(phases);
    }

    private Phase runPhase(Load load, StorageTier tier, MemorySegment chunk, MemorySegment copyTarget, long nanos) {
        AtomicLong work = new AtomicLong();
        long[] loadCpu = new long[1];
        long[] moved = new long[1];
        long start = System.nanoTime();
        long end = start + nanos;
        List<Thread> computing = new ArrayList<>();
        for (int t = 0; t < computeThreads; t++) {
            computing.add(Thread.ofPlatform().name("write-cost-compute-" + t).start(() -> work.addAndGet(compute(end))));
        }
        Thread loader = Thread.ofPlatform().name("write-cost-load").start(() -> {
            long cpu0 = threads.getCurrentThreadCpuTime();
            moved[0] = switch (load) {
                case NONE -> 0;
                case WRITE -> paced(start, end, () -> {
                    if (!tier.put(ChunkKey.ofHex(String.format("%064x", ++nextKey)), chunk)) {
                        throw new IllegalStateException("disk tier " + dir + ": refused a chunk of " + CHUNK_BYTES + " bytes");
                    }
                });
                case COPY -> paced(start, end, () -> {
                    CRC32C crc = new CRC32C();
                    crc.update(chunk.asByteBuffer());
                    MemorySegment.copy(chunk, 0, copyTarget, 0, CHUNK_BYTES);
                    if (crc.getValue() == 42) {
                        copyTarget.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 2); // keeps the checksum's work
                    }
                });
            };
            loadCpu[0] = threads.getCurrentThreadCpuTime() - cpu0;
        });
        try {
            for (Thread t : computing) {
                t.join();
            }
            loader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during a " + load + " phase", e);
        }
        return new Phase(load, work.get(), loadCpu[0], moved[0], System.nanoTime() - start);
    }

    /** Runs {@code step} (one chunk's bytes) at {@link #mibPerSecond} until {@code end}; the bytes moved. */
    private long paced(long start, long end, Runnable step) {
        long nanosPerChunk = (long) (CHUNK_BYTES / (mibPerSecond * (1 << 20)) * 1e9);
        long bytes = 0;
        for (long due = start; System.nanoTime() < end; due += nanosPerChunk) {
            long wait = due - System.nanoTime();
            if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(Math.min(wait, end - System.nanoTime()));
                if (System.nanoTime() >= end) {
                    break;
                }
            }
            step.run();
            bytes += CHUNK_BYTES;
        }
        return bytes;
    }

    /** Arithmetic until {@code end}: the blocks of it done. */
    private static long compute(long end) {
        double x = 1;
        long blocks = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 100_000; i++) {
                x = x * 1.0000001 + 1e-9;
            }
            blocks++;
        }
        return x == 0 ? -1 : blocks;
    }

    private Map<String, Object> report(List<Phase> phases) {
        double[] writeLoss = new double[rounds];
        double[] copyLoss = new double[rounds];
        double[] writeMiBs = new double[rounds];
        double[] writerShare = new double[rounds];
        double[] copierShare = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            List<Phase> round = phases.subList(r * ROUND.length, (r + 1) * ROUND.length);
            double none = workPerSecond(round, Load.NONE);
            writeLoss[r] = 1 - workPerSecond(round, Load.WRITE) / none;
            copyLoss[r] = 1 - workPerSecond(round, Load.COPY) / none;
            writeMiBs[r] = sum(round, Load.WRITE, Phase::bytes) / (1 << 20) / (sum(round, Load.WRITE, Phase::nanos) / 1e9);
            writerShare[r] = sum(round, Load.WRITE, Phase::loadCpuNanos) / sum(round, Load.WRITE, Phase::nanos);
            copierShare[r] = sum(round, Load.COPY, Phase::loadCpuNanos) / sum(round, Load.COPY, Phase::nanos);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("compute_threads", computeThreads);
        out.put("chunk_bytes", CHUNK_BYTES);
        out.put("target_mib_per_s", mibPerSecond);
        out.put("phase_seconds", phaseNanos / 1e9);
        out.put("rounds", rounds);
        put(out, "write_mib_per_s", writeMiBs);
        put(out, "write_compute_loss", writeLoss);
        put(out, "writer_cpu_share", writerShare);
        out.put("write_compute_loss_from_writer_cpu", QuickBench.round(median(writerShare) / computeThreads));
        put(out, "copy_compute_loss", copyLoss);
        put(out, "copier_cpu_share", copierShare);
        out.put("copy_compute_loss_from_copier_cpu", QuickBench.round(median(copierShare) / computeThreads));
        return out;
    }

    private static double workPerSecond(List<Phase> round, Load load) {
        return sum(round, load, Phase::work) / sum(round, load, Phase::nanos);
    }

    private static double sum(List<Phase> round, Load load, java.util.function.ToLongFunction<Phase> f) {
        return round.stream().filter(p -> p.load() == load).mapToLong(f).sum();
    }

    private static void put(Map<String, Object> out, String field, double[] runs) {
        out.put(field, QuickBench.round(median(runs)));
        out.put(field + "_runs", Arrays.stream(runs).map(QuickBench::round).boxed().toList());
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
