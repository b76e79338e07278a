package org.lmcache4j.storage;

import java.io.IOException;
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
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.bench.BenchKv;

/**
 * The library half of {@code bin/lmcache bench --quick}: each figure is a ratio of this library's time
 * to the physical limit's time for the same bytes, measured in the same run (medians of repeated runs
 * after warm-up). Prints one JSON object. Lives in the storage package to time the disk tier itself.
 *
 * <ul>
 *   <li>{@code retrieve_vs_copy_ratio}: cpu-tier retrieve / {@code MemorySegment.copy} of the same bytes</li>
 *   <li>{@code disk_write_vs_raw_ratio}: disk-tier puts (checksummed, fsync'ed, renamed) / raw write + fsync</li>
 *   <li>{@code disk_read_vs_raw_ratio}: disk-tier reads into a buffer (checksum verified) / raw reads of the same bytes</li>
 *   <li>{@code lookup_us_per_chunk}: SHA-256 lookup of a fully cached 32K-token prompt, per chunk</li>
 * </ul>
 */
public final class QuickBench {

    private QuickBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("lmcache-quickbench");
        System.out.println(toJson(run(dir, "qwen2.5-0.5b", 4096, 16)));
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
        stage.accept("ratios: lookup");
        out.put("lookup_us_per_chunk", round(lookupMicrosPerChunk()));
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

    private static void disk(Path dir, KvLayout layout, int chunks, Map<String, Object> out) throws IOException {
        long chunkBytes = layout.chunkBytes(256);
        List<ChunkKey> keys = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            keys.add(ChunkKey.ofHex(String.format("%064x", i + 1)));
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment payload = arena.allocate(chunkBytes, 4096);
            payload.fill((byte) 7);
            MemorySegment readBuffer = arena.allocate(chunkBytes, 4096);
            Path tierDir = dir.resolve("tier");
            Path rawDir = Files.createDirectories(dir.resolve("raw"));
            double tierWrite = 0;
            double rawWrite = 0;
            double tierRead = 0;
            double rawRead = 0;
            int rounds = 5;
            double[] tw = new double[rounds];
            double[] rw = new double[rounds];
            double[] tr = new double[rounds];
            double[] rr = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                deleteTree(tierDir);
                deleteTree(rawDir);
                Files.createDirectories(rawDir);
                try (DiskTier tier = new DiskTier(tierDir, chunks * (chunkBytes + 4096), layout.fingerprint())) {
                    long t0 = System.nanoTime();
                    for (ChunkKey k : keys) {
                        tier.put(k, payload);
                    }
                    long t1 = System.nanoTime();
                    for (int i = 0; i < chunks; i++) {
                        rawWrite(rawDir.resolve("c" + i), payload);
                    }
                    long t2 = System.nanoTime();
                    for (ChunkKey k : keys) {
                        if (tier.readInto(k, readBuffer) != chunkBytes) { // the promotion path: into a cpu page
                            throw new IllegalStateException("disk tier lost chunk " + k);
                        }
                    }
                    long t3 = System.nanoTime();
                    for (int i = 0; i < chunks; i++) {
                        rawRead(rawDir.resolve("c" + i), readBuffer);
                    }
                    long t4 = System.nanoTime();
                    tw[round] = t1 - t0;
                    rw[round] = t2 - t1;
                    tr[round] = t3 - t2;
                    rr[round] = t4 - t3;
                }
            }
            tierWrite = median(tw);
            rawWrite = median(rw);
            tierRead = median(tr);
            rawRead = median(rr);
            out.put("disk_bytes", chunks * chunkBytes);
            out.put("disk_write_ms", round(tierWrite / 1e6));
            out.put("raw_write_ms", round(rawWrite / 1e6));
            out.put("disk_write_vs_raw_ratio", round(tierWrite / rawWrite));
            out.put("disk_read_ms", round(tierRead / 1e6));
            out.put("raw_read_ms", round(rawRead / 1e6));
            out.put("disk_read_vs_raw_ratio", round(tierRead / rawRead));
            deleteTree(dir.resolve("tier"));
            deleteTree(rawDir);
        }
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

    private static double medianNanos(int warmups, int runs, Runnable body) {
        for (int i = 0; i < warmups; i++) {
            body.run();
        }
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            body.run();
            t[i] = System.nanoTime() - t0;
        }
        return median(t);
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static void deleteTree(Path dir) throws IOException {
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
