package org.lmcache4j.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;
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
import org.lmcache4j.bench.workload.RunSeries;
import org.lmcache4j.storage.tier.DiskChunkFormat;

/**
 * What writing chunks to the disk tier costs an engine that computes on every core, against what the writing
 * thread's own CPU time explains. One compute thread per core runs arithmetic while a third thread either does
 * nothing, writes 256-token chunks of the reference engine's KV into a real disk tier at a fixed rate (checksum,
 * a new file through the page cache, {@code fsync}, rename, as the write-behind does into a tier with room),
 * puts them into a full disk tier of eight chunks (each put evicts the oldest chunk and writes over its file, as the
 * tier does since it recycles files), writes them in place over eight files written before (checksum, page cache,
 * {@code fsync}: the same without the tier), or does the same checksum and copy in memory at the same rate with no I/O. The loss is the compute lost against the phases with nothing: if the writing thread's
 * CPU were the whole cost, the loss would be about its share of a core divided by the compute threads; what
 * exceeds that is work the machine does for the writes outside this process's threads (on a virtual machine,
 * the host's emulation of the disk running on the cores the guest's CPUs share).
 *
 * <p>Phases run in the order nothing, write, recycle, overwrite, copy, copy, overwrite, recycle, write, nothing in
 * each round, so
 * that a drift of the machine's speed weighs on every kind alike; each figure is the median over the rounds with every round's value.
 */
public final class WriteCostProbe {

    /** The reference engine's KV (SmolLM-135M shape, fp32): chunks of 11.25 MiB, as the miss-only workload writes. */
    static final KvLayout LAYOUT = KvLayout.standard(30, 3, 64, KvDtype.FP32);

    private static final long CHUNK_BYTES = 256L * LAYOUT.bytesPerToken();

    private enum Load { NONE, WRITE, RECYCLE, OVERWRITE, COPY }

    private static final Load[] ROUND = {Load.NONE, Load.WRITE, Load.RECYCLE, Load.OVERWRITE, Load.COPY, Load.COPY, Load.OVERWRITE,
        Load.RECYCLE, Load.WRITE, Load.NONE};

    /** Files the overwrite phases write over in turn, and chunks the full tier of the recycle phases holds. */
    private static final int OVERWRITTEN_FILES = 8;

    /** A disk tier's file of one chunk: the payload after its header block. */
    private static final long FILE_BYTES = DiskChunkFormat.fileBytes(CHUNK_BYTES);

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
    private long checksums;

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
     * docs/PERFORMANCE.md ("The miss overhead on this machine").
     */
    public static Map<String, Object> run(Path dir, double mibPerSecond, int rounds, double phaseSeconds, Consumer<String> progress) {
        return new WriteCostProbe(dir, mibPerSecond, rounds, phaseSeconds).run(progress);
    }

    private Map<String, Object> run(Consumer<String> progress) {
        CacheIdentity identity = new CacheIdentity(new CacheNamespace("write-cost-" + UUID.randomUUID(), LAYOUT.fingerprint(), "", 0, 1),
                256, HashAlgorithm.SHA_256);
        // a put forces its file to the device, as the connector's disk tier does; a budget the defaults fill to about an
        // eighth (20 MiB/s, five rounds), so that no put evicts and every put of the write phases creates a file (a put
        // that evicts writes over its victim's file); a run writing more than 8 GiB would measure some overwrites there
        String url = dir.toUri() + "?capacity=8g";
        String fullUrl = dir.resolve("full").toUri() + "?capacity=" + OVERWRITTEN_FILES * FILE_BYTES; // eight chunks, then full
        List<Phase> phases = new ArrayList<>();
        try (Arena arena = Arena.ofShared(); StorageTier tier = StorageTiers.open(url, identity, new TierOptions(CHUNK_BYTES, 8L << 30, LAYOUT));
             StorageTier full = StorageTiers.open(fullUrl, identity, new TierOptions(CHUNK_BYTES, OVERWRITTEN_FILES * FILE_BYTES, LAYOUT))) {
            MemorySegment chunk = arena.allocate(CHUNK_BYTES, 4096);
            MemorySegment copyTarget = arena.allocate(CHUNK_BYTES, 4096);
            SplittableRandom random = new SplittableRandom(7);
            for (long i = 0; i < CHUNK_BYTES; i += 8) {
                chunk.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
            }
            copyTarget.fill((byte) 1); // touched once: the copy phases move bytes, they do not fault pages in
            runPhase(Load.WRITE, tier, chunk, copyTarget, phaseNanos / 4); // warm-up: the JIT, the tier's first files
            for (int f = 0; f < OVERWRITTEN_FILES; f++) {
                overwrite(f, chunk); // the files exist, their blocks allocated and their pages cached, before any phase
                put(full, chunk); // the full tier, likewise
            }
            for (int r = 1; r <= rounds; r++) {
                for (Load load : ROUND) {
                    progress.accept("round " + r + "/" + rounds + ": " + load.name().toLowerCase(Locale.ROOT));
                    phases.add(runPhase(load, load == Load.RECYCLE ? full : tier, chunk, copyTarget, phaseNanos));
                }
            }
            tier.clear();
            full.clear();
        } finally {
            for (int f = 0; f < OVERWRITTEN_FILES; f++) {
                try {
                    Files.deleteIfExists(overwritten(f));
                } catch (IOException e) {
                    progress.accept("could not delete " + overwritten(f) + ": " + e.getMessage());
                }
            }
        }
        return report(phases);
    }

    private Phase runPhase(Load load, StorageTier tier, MemorySegment chunk, MemorySegment copyTarget, long nanos) {
        AtomicLong work = new AtomicLong();
        AtomicReference<Loaded> loaded = new AtomicReference<>();
        AtomicReference<RuntimeException> failed = new AtomicReference<>();
        long start = System.nanoTime();
        long end = start + nanos;
        List<Thread> computing = new ArrayList<>();
        for (int t = 0; t < computeThreads; t++) {
            computing.add(Thread.ofPlatform().name("write-cost-compute-" + t).start(() -> work.addAndGet(compute(end))));
        }
        Thread loader = Thread.ofPlatform().name("write-cost-load").start(() -> {
            try {
                loaded.set(load(load, tier, chunk, copyTarget, start, end));
            } catch (RuntimeException e) {
                failed.set(e);
            }
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
        if (failed.get() != null) {
            throw new IllegalStateException("the " + load.name().toLowerCase(Locale.ROOT) + " phase failed: " + failed.get().getMessage(),
                    failed.get());
        }
        return new Phase(load, work.get(), loaded.get().cpuNanos(), loaded.get().bytes(), System.nanoTime() - start);
    }

    /** What the loading thread did in a phase: its CPU time and the bytes it moved. */
    private record Loaded(long cpuNanos, long bytes) {
    }

    /** The loading thread's part of a phase, from {@code start} until {@code end}. */
    private Loaded load(Load load, StorageTier tier, MemorySegment chunk, MemorySegment copyTarget, long start, long end) {
        long cpu0 = threads.getCurrentThreadCpuTime();
        long bytes = switch (load) {
            case NONE -> 0;
            case WRITE, RECYCLE -> paced(start, end, () -> put(tier, chunk));
            case OVERWRITE -> paced(start, end, new Runnable() {
                private int next;

                @Override
                public void run() {
                    overwrite(next++ % OVERWRITTEN_FILES, chunk);
                }
            });
            case COPY -> paced(start, end, () -> {
                CRC32C crc = new CRC32C();
                crc.update(chunk.asByteBuffer());
                MemorySegment.copy(chunk, 0, copyTarget, 0, CHUNK_BYTES);
                checksums += crc.getValue(); // kept, as a header keeps it
            });
        };
        return new Loaded(threads.getCurrentThreadCpuTime() - cpu0, bytes);
    }

    /** Puts {@code chunk} into {@code tier} under a new key. */
    private void put(StorageTier tier, MemorySegment chunk) {
        if (!tier.put(ChunkKey.ofHex(String.format("%064x", ++nextKey)), chunk)) {
            throw new IllegalStateException("disk tier under " + dir + ": refused a chunk of " + CHUNK_BYTES + " bytes");
        }
    }

    /** Writes {@code chunk} over file {@code f} of the overwrite phases from its start (checksum first, as the tier does), forced. */
    private void overwrite(int f, MemorySegment chunk) {
        Path file = overwritten(f);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            CRC32C crc = new CRC32C();
            crc.update(chunk.asByteBuffer());
            ByteBuffer b = chunk.asByteBuffer();
            for (long at = 0; b.hasRemaining(); ) {
                at += ch.write(b, at);
            }
            ByteBuffer trailer = ByteBuffer.allocate(Long.BYTES).putLong(0, crc.getValue()); // as a header carries it
            while (trailer.hasRemaining()) {
                ch.write(trailer, CHUNK_BYTES + trailer.position());
            }
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("overwriting " + file, e);
        }
    }

    private Path overwritten(int f) {
        return dir.resolve("overwritten-" + f + ".bin");
    }

    /** Runs {@code step} (one chunk's bytes) at {@link #mibPerSecond} until {@code end}; the bytes moved. */
    private long paced(long start, long end, Runnable step) {
        long nanosPerChunk = (long) (CHUNK_BYTES / (mibPerSecond * (1 << 20)) * 1e9);
        long bytes = 0;
        for (long due = start; System.nanoTime() < end; due += nanosPerChunk) {
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(Math.min(wait, end - System.nanoTime()));
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
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("compute_threads", computeThreads);
        out.put("chunk_bytes", CHUNK_BYTES);
        out.put("target_mib_per_s", mibPerSecond);
        out.put("phase_seconds", phaseNanos / 1e9);
        out.put("rounds", rounds);
        for (Load load : List.of(Load.WRITE, Load.RECYCLE, Load.OVERWRITE, Load.COPY)) {
            String name = load.name().toLowerCase(Locale.ROOT);
            RunSeries series = new RunSeries();
            for (int r = 0; r < rounds; r++) {
                List<Phase> round = phases.subList(r * ROUND.length, (r + 1) * ROUND.length);
                double seconds = sum(round, load, Phase::nanos) / 1e9;
                series.add(name + "_mib_per_s", sum(round, load, Phase::bytes) / (1 << 20) / seconds);
                series.add(name + "_compute_loss", 1 - workPerSecond(round, load) / workPerSecond(round, Load.NONE));
                series.add(name + "_cpu_share", sum(round, load, Phase::loadCpuNanos) / 1e9 / seconds);
            }
            for (String field : List.of("_mib_per_s", "_compute_loss", "_cpu_share")) {
                series.putInto(out, name + field);
            }
            out.put(name + "_compute_loss_from_cpu", QuickBench.round(series.median(name + "_cpu_share") / computeThreads));
        }
        return out;
    }

    private static double workPerSecond(List<Phase> round, Load load) {
        return sum(round, load, Phase::work) / sum(round, load, Phase::nanos);
    }

    private static double sum(List<Phase> round, Load load, ToLongFunction<Phase> f) {
        return round.stream().filter(p -> p.load() == load).mapToLong(f).sum();
    }
}
