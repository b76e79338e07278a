package org.lmcache4j.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.nativeio.Libc;
import org.lmcache4j.storage.tier.DiskChunkFormat;

/**
 * The library half of {@code bin/lmcache bench --quick}: each figure is a ratio of this library's time
 * to the physical limit's time for the same bytes, measured in the same run (medians of repeated runs
 * after warm-up). Prints one JSON object. Lives in the storage package to time the disk tier itself.
 *
 * <ul>
 *   <li>{@code retrieve_vs_copy_ratio}: cpu-tier retrieve / {@code MemorySegment.copy} of the same bytes</li>
 *   <li>{@code shared_pool_vs_cpu_ratio}: a retrieve from the node-shared pool of what another engine stored / a
 *       cpu-tier retrieve of the same bytes ({@link SharedPoolQuickBench})</li>
 *   <li>{@code disk_write_vs_raw_ratio}: disk-tier puts (checksummed, fsync'ed, renamed) / raw write + fsync</li>
 *   <li>{@code disk_read_vs_raw_ratio}: disk-tier reads into a buffer (checksum verified) / raw reads of the same bytes,
 *       both with the page cache warm ({@code disk_read_cold_vs_raw_ratio}: both cold)</li>
 *   <li>{@code lookup_us_per_chunk}: SHA-256 lookup of a fully cached 32K-token prompt, per chunk</li>
 * </ul>
 */
public final class QuickBench {

    /** The identity the disk figures store their chunks under (the disk tier keeps them in its own subdirectory). */
    private static final java.util.function.Function<KvLayout, CacheIdentity> BENCH_IDENTITY = layout -> new CacheIdentity(
            new CacheNamespace("quickbench", layout.fingerprint(), "", 0, 1), 256, HashAlgorithm.SHA_256);

    private QuickBench() {
    }

    /**
     * Standalone: {@code QuickBench [--disk-only] [dir]}; prints the figures as JSON. {@code --disk-only}
     * measures only the disk tier's write and read ratios (to iterate on the disk tier alone); without a
     * {@code dir} a temporary one is used and deleted.
     */
    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(List.of(args));
        boolean diskOnly = rest.remove("--disk-only");
        Path dir = rest.isEmpty() ? Files.createTempDirectory("lmcache-quickbench") : Path.of(rest.getFirst());
        try {
            if (diskOnly) {
                Map<String, Object> out = new LinkedHashMap<>();
                disk(dir, BenchKv.layout("qwen2.5-0.5b"), 16, out);
                System.out.println(toJson(out));
            } else {
                System.out.println(toJson(run(dir, "qwen2.5-0.5b", 4096, 16)));
            }
        } finally {
            if (rest.isEmpty()) {
                deleteTree(dir);
            }
        }
    }

    /** Runs every measurement; {@code chunks} disk chunks of the model's 256-token chunk size. */
    public static Map<String, Object> run(Path dir, String model, int retrieveTokens, int chunks) throws IOException {
        return run(dir, model, retrieveTokens, chunks, stage -> { });
    }

    /** {@link #run(Path, String, int, int)}, telling {@code stage} what it measures as it starts each part. */
    public static Map<String, Object> run(Path dir, String model, int retrieveTokens, int chunks, Consumer<String> stage)
            throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        KvLayout layout = BenchKv.layout(model);
        out.put("model", model);
        out.put("bytes_per_token", layout.bytesPerToken());
        stage.accept("ratios: cpu-tier retrieve vs copy");
        retrieve(layout, retrieveTokens, out);
        stage.accept("ratios: disk write and read vs raw");
        disk(dir, layout, chunks, out);
        stage.accept("ratios: shared pool vs cpu tier");
        SharedPoolQuickBench.run(layout, retrieveTokens, out);
        stage.accept("ratios: lookup");
        out.put("lookup_us_per_chunk", round(lookupMicrosPerChunk()));
        RemoteQuickBench.run(model, retrieveTokens, out, stage);
        return out;
    }

    private static void retrieve(KvLayout layout, int tokens, Map<String, Object> out) {
        try (Arena arena = Arena.ofShared();
             KvConnector c = KvConnectors.open(LmCacheConfig.builder().modelId("quickbench").noLocalDisk()
                     .maxLocalCpuBytes(2 * layout.chunkBytes(tokens)).build(), layout)) {
            HostKvMemory source = BenchKv.contiguous(arena, layout, tokens, 1);
            HostKvMemory target = BenchKv.contiguous(arena, layout, tokens, 2);
            MemorySegment flat = arena.allocate(layout.chunkBytes(tokens), 4096);
            int[] prompt = BenchKv.tokens(1, tokens);
            int[] slots = BenchKv.identity(tokens);
            c.store(prompt, source, slots);
            double retrieve = medianNanos(30, 15, () -> c.retrieve(prompt, target, slots));
            double copy = medianNanos(30, 15, () -> BenchKv.rawCopy(flat, target, tokens));
            out.put("retrieve_bytes", layout.chunkBytes(tokens));
            out.put("retrieve_ms", round(retrieve / 1e6));
            out.put("raw_copy_ms", round(copy / 1e6));
            out.put("retrieve_vs_copy_ratio", round(retrieve / copy));
        }
    }

    /**
     * Disk tier against raw file I/O of the same bytes on the same file system. Writes: puts (checksummed,
     * fsync'ed, renamed) against one write + fsync per file. Reads: the tier's readInto against one
     * FileChannel.read per file, both into the same touched buffer and in the same page-cache state:
     * warm (every file of both sides read once just before), and, where libc is available, cold (every
     * file of both sides dropped from the page cache with posix_fadvise just before). Which side goes
     * first alternates by round. Reads are timed after untimed passes of both sides ({@link #warmUp}): in a
     * run's first round {@value #WARMUP_READS} and {@value #WARMUP_MILLIS} ms at least, in every round until the
     * JIT's compilers are idle ({@link JitQuiet#runUntilQuiet});
     * a warm round's figure is the median of {@value #TIMED_READS} passes.
     */
    private static void disk(Path dir, KvLayout layout, int chunks, Map<String, Object> out) throws IOException {
        long chunkBytes = layout.chunkBytes(256);
        List<ChunkKey> keys = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            keys.add(ChunkKey.ofHex(String.format("%064x", i + 1)));
        }
        Optional<Libc> libc = Libc.instance();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment payload = arena.allocate(chunkBytes, 4096);
            payload.fill((byte) 7);
            MemorySegment readBuffer = arena.allocate(chunkBytes, 4096);
            readBuffer.fill((byte) 1); // touched: the reads measure I/O, not page faults
            Path tierDir = dir.resolve("tier");
            Path rawDir = dir.resolve("raw");
            int rounds = 5;
            double[] tw = new double[rounds];
            double[] rw = new double[rounds];
            double[] tr = new double[rounds];
            double[] rr = new double[rounds];
            double[] trCold = new double[rounds];
            double[] rrCold = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                deleteTree(tierDir);
                deleteTree(rawDir);
                Files.createDirectories(rawDir);
                boolean tierFirst = round % 2 == 0;
                try (StorageTier tier = StorageTiers.open(tierDir.toUri() + "?capacity=" + chunks * DiskChunkFormat.fileBytes(chunkBytes),
                        BENCH_IDENTITY.apply(layout), new TierOptions(chunkBytes, 0))) {
                    List<Path> rawFiles = new ArrayList<>();
                    for (int i = 0; i < chunks; i++) {
                        rawFiles.add(rawDir.resolve("c" + i));
                    }
                    IoStep tierWrite = () -> {
                        for (ChunkKey k : keys) {
                            tier.put(k, payload);
                        }
                    };
                    IoStep rawWrites = () -> {
                        for (Path f : rawFiles) {
                            rawWrite(f, payload);
                        }
                    };
                    if (tierFirst) {
                        tw[round] = nanos(tierWrite);
                        rw[round] = nanos(rawWrites);
                    } else {
                        rw[round] = nanos(rawWrites);
                        tw[round] = nanos(tierWrite);
                    }
                    List<Path> tierFiles = chunkFiles(tierDir, keys.size());
                    IoStep tierRead = () -> {
                        for (ChunkKey k : keys) {
                            if (tier.readInto(k, readBuffer) != chunkBytes) { // the promotion path: into a cpu page
                                throw new IllegalStateException("disk tier lost chunk " + k);
                            }
                        }
                    };
                    IoStep rawRead = () -> {
                        for (Path f : rawFiles) {
                            rawRead(f, readBuffer);
                        }
                    };
                    IoStep warm = () -> {
                        for (Path f : tierFiles) {
                            readThrough(f, readBuffer);
                        }
                        for (Path f : rawFiles) {
                            readThrough(f, readBuffer);
                        }
                    };
                    // the first round of a run warms up long enough for the JIT's optimizing compiles; every round
                    // reads on until the compilers are idle (its writes may have queued compiles)
                    warmUp(tierRead, rawRead, round == 0 ? WARMUP_READS : 1, round == 0 ? WARMUP_MILLIS : 0);
                    warm.run();
                    double first = medianNanos(tierFirst ? tierRead : rawRead);
                    warm.run();
                    double second = medianNanos(tierFirst ? rawRead : tierRead);
                    tr[round] = tierFirst ? first : second;
                    rr[round] = tierFirst ? second : first;
                    if (libc.isPresent()) {
                        IoStep cold = () -> {
                            for (Path f : tierFiles) {
                                libc.get().dropFromPageCache(f.toString());
                            }
                            for (Path f : rawFiles) {
                                libc.get().dropFromPageCache(f.toString());
                            }
                        };
                        cold.run();
                        first = nanos(tierFirst ? tierRead : rawRead);
                        cold.run();
                        second = nanos(tierFirst ? rawRead : tierRead);
                        trCold[round] = tierFirst ? first : second;
                        rrCold[round] = tierFirst ? second : first;
                    }
                }
            }
            List<String> readRounds = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                readRounds.add(String.format(java.util.Locale.ROOT, "%.2f/%.2f", tr[round] / 1e6, rr[round] / 1e6));
            }
            out.put("disk_read_rounds_ms", String.join(" ", readRounds)); // each round's warm read, tier/raw
            double tierWrite = median(tw);
            double rawWrite = median(rw);
            double tierRead = median(tr);
            double rawRead = median(rr);
            out.put("disk_bytes", chunks * chunkBytes);
            out.put("disk_write_ms", round(tierWrite / 1e6));
            out.put("raw_write_ms", round(rawWrite / 1e6));
            out.put("disk_write_vs_raw_ratio", round(tierWrite / rawWrite));
            out.put("disk_read_page_cache", "warm");
            out.put("disk_read_ms", round(tierRead / 1e6));
            out.put("raw_read_ms", round(rawRead / 1e6));
            out.put("disk_read_vs_raw_ratio", round(tierRead / rawRead));
            if (libc.isPresent()) {
                out.put("disk_read_cold_ms", round(median(trCold) / 1e6));
                out.put("raw_read_cold_ms", round(median(rrCold) / 1e6));
                out.put("disk_read_cold_vs_raw_ratio", round(median(trCold) / median(rrCold)));
            }
            deleteTree(tierDir);
            deleteTree(rawDir);
        }
    }

    private static final int WARMUP_READS = 30;
    /**
     * The least time the read paths are warmed up for in each run: long enough that the JIT's optimizing
     * compiler has compiled them (a few thousand calls) before any is timed. With 30 passes alone (480 reads),
     * the optimizing compiles of the tier's read path fell into the timed reads of the bench's first two runs.
     */
    private static final long WARMUP_MILLIS = 2_000;
    private static final int TIMED_READS = 5;

    /** Runs both read paths in turn, {@code minPasses} times and {@code minMillis} ms at least, until the JIT is idle. */
    private static void warmUp(IoStep a, IoStep b, int minPasses, long minMillis) throws IOException {
        try {
            JitQuiet.runUntilQuiet(() -> {
                try {
                    a.run();
                    b.run();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, minPasses, minMillis);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Median time of {@value #TIMED_READS} runs of {@code step}. */
    private static double medianNanos(IoStep step) throws IOException {
        double[] t = new double[TIMED_READS];
        for (int i = 0; i < t.length; i++) {
            t[i] = nanos(step);
        }
        return median(t);
    }

    /** One timed piece of file I/O. */
    @FunctionalInterface
    private interface IoStep {
        void run() throws IOException;
    }

    private static double nanos(IoStep step) throws IOException {
        long t0 = System.nanoTime();
        step.run();
        return System.nanoTime() - t0;
    }

    private static double lookupMicrosPerChunk() {
        KvLayout tiny = BenchKv.layout("tiny");
        int tokens = 32768;
        try (Arena arena = Arena.ofShared();
             KvConnector c = KvConnectors.open(LmCacheConfig.builder().modelId("quickbench-lookup").noLocalDisk()
                     .maxLocalCpuBytes(2 * tiny.chunkBytes(tokens) + (16 << 20)).build(), tiny)) {
            int[] prompt = BenchKv.tokens(5, tokens);
            c.store(prompt, BenchKv.contiguous(arena, tiny, tokens, 5), BenchKv.identity(tokens));
            double nanos = medianNanos(200, 51, () -> c.lookup(prompt));
            return nanos / 1e3 / (tokens / 256.0);
        }
    }

    private static void rawWrite(Path file, MemorySegment payload) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = payload.asByteBuffer();
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
    }

    private static void rawRead(Path file, MemorySegment into) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = into.asByteBuffer();
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // keep reading
            }
        }
    }

    /** Reads all of {@code file}, through {@code buffer} as many times as it takes, into the page cache. */
    private static void readThrough(Path file, MemorySegment buffer) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long at = 0;
            for (int n; (n = ch.read(buffer.asByteBuffer(), at)) > 0; ) {
                at += n;
            }
        }
    }

    /** The median time of {@code runs} runs of {@code body}, after {@code warmups} untimed ones and more until the JIT is idle. */
    static double medianNanos(int warmups, int runs, Runnable body) {
        JitQuiet.runUntilQuiet(body, warmups, 0);
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            body.run();
            t[i] = System.nanoTime() - t0;
        }
        return median(t);
    }

    /**
     * {@link #medianNanos(int, int, Runnable)} of several bodies measured in turn (one run of each per round), so
     * that whatever else the machine does during the measurement weighs on each alike: the medians, in order.
     */
    static double[] medianNanosAlternating(int warmups, int runs, Runnable... bodies) {
        JitQuiet.runUntilQuiet(() -> {
            for (Runnable b : bodies) {
                b.run();
            }
        }, warmups, 0);
        double[][] t = new double[bodies.length][runs];
        for (int i = 0; i < runs; i++) {
            for (int b = 0; b < bodies.length; b++) {
                long t0 = System.nanoTime();
                bodies[b].run();
                t[b][i] = System.nanoTime() - t0;
            }
        }
        double[] medians = new double[bodies.length];
        for (int b = 0; b < bodies.length; b++) {
            medians[b] = median(t[b]);
        }
        return medians;
    }

    /** The median of {@code values} (the upper middle one for an even count); also used by {@link RemoteQuickBench}. */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    /** {@code v} to three decimals, as the JSON prints ratios. */
    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /**
     * The chunk files ({@code *.kv}) the disk tier under {@code tierDir} holds, {@code expected} of them (its
     * lock and identity record left out): what the warm and cold reads touch or drop from the page cache.
     */
    private static List<Path> chunkFiles(Path tierDir, int expected) throws IOException {
        List<Path> found;
        try (Stream<Path> files = Files.walk(tierDir)) {
            found = files.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().endsWith(".kv")).sorted().toList();
        }
        if (found.size() != expected) {
            throw new IllegalStateException("disk tier " + tierDir + ": " + found.size() + " chunk files (expected: " + expected + ")");
        }
        return found;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static String toJson(Map<String, Object> map) {
        StringBuilder sb = new StringBuilder("{");
        map.forEach((k, v) -> sb.append(sb.length() > 1 ? ",\n " : "\n ").append('"').append(k).append("\": ")
                .append(v instanceof String s ? "\"" + s + "\"" : v));
        return sb.append("\n}").toString();
    }
}
