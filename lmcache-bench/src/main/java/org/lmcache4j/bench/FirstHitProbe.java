package org.lmcache4j.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;

/**
 * The first hits a user sees, each in a fresh JVM, against a plain copy of the same bytes into memory
 * already touched: a cpu-tier hit right after a store ({@code store DIR}), and a disk-tier hit in a new
 * process that promotes into the cpu tier ({@code disk DIR}, run after {@code store DIR} filled DIR).
 * SmolLM-135M's KV shape (30 layers, 3 KV heads of 64, FP32: 46,080 bytes per token), a 4,096-token
 * prompt (180 MiB), the connector's default cpu budget (5 GiB). Prints one JSON line.
 *
 * <p>Before the measured request the JVM warms up its JIT through a scratch connector (a store, then a
 * disk hit after reopening), opens the measured connector, stores and retrieves an unrelated prompt
 * through it (as the demo's warm-up does; {@code --warmup-tokens}, default 4,096; the demo's is 1,024)
 * and then stays idle for {@code --idle-ms} (default 1000): the
 * time an engine spends between opening its cache and its first request (model load, its own warm-up).
 * In {@code disk} mode the tier's files are read once (timed, {@code raw_read_ms}) before the retrieve,
 * so both read from the same, warm page cache. {@code *_faults} count the minor page faults the
 * measuring thread took during the call (a sampling profiler misses them here: a vCPU stalled on a fault
 * the host backs lazily takes no samples); the directory holds the warm-up prompt's files too, so
 * {@code raw_read_ms_per_kv_bytes} scales that read to the retrieved bytes.
 */
public final class FirstHitProbe {

    static final KvLayout SMOLLM_135M = KvLayout.standard(30, 3, 64, KvDtype.FP32);
    static final int TOKENS = 4096;

    private FirstHitProbe() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !(args[0].equals("store") || args[0].equals("disk"))) {
            System.err.println("usage: FirstHitProbe store|disk DIR [--idle-ms N] [--warmup-tokens N]");
            System.exit(2);
        }
        Path dir = Path.of(args[1]);
        long idleMillis = 1000;
        int warmupTokens = TOKENS;
        for (int i = 2; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--idle-ms" -> idleMillis = Long.parseLong(args[i + 1]);
                case "--warmup-tokens" -> warmupTokens = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("option: '" + args[i] + "' (expected: --idle-ms or --warmup-tokens)");
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mode", args[0]);
        out.put("kv_bytes", SMOLLM_135M.chunkBytes(TOKENS));
        out.put("idle_ms", idleMillis);
        out.put("warmup_tokens", warmupTokens);
        try (Arena arena = Arena.ofShared()) {
            HostKvMemory source = BenchKv.contiguous(arena, SMOLLM_135M, TOKENS, 1); // touched: filled with random bytes
            HostKvMemory target = BenchKv.contiguous(arena, SMOLLM_135M, TOKENS, 2);
            MemorySegment flat = arena.allocate(SMOLLM_135M.chunkBytes(TOKENS), 4096);
            flat.fill((byte) 1);
            int[] prompt = BenchKv.tokens(42, TOKENS);
            int[] other = BenchKv.tokens(7, warmupTokens);
            int[] slots = BenchKv.identity(TOKENS);
            warmUpJit(dir.resolveSibling(dir.getFileName() + "-jit"), source, target, other, Arrays.copyOf(slots, warmupTokens));
            if (args[0].equals("store")) {
                deleteTree(dir);
            }
            try (KvConnector c = KvConnectors.open(config(dir), SMOLLM_135M)) {
                c.store(other, source, Arrays.copyOf(slots, warmupTokens));
                c.retrieve(other, target, Arrays.copyOf(slots, warmupTokens));
                Thread.sleep(idleMillis);
                if (args[0].equals("store")) {
                    long f0 = minorFaults();
                    long t0 = System.nanoTime();
                    int stored = c.store(prompt, source, slots);
                    long t1 = System.nanoTime();
                    long f1 = minorFaults();
                    int hit = c.retrieve(prompt, target, slots);
                    long t2 = System.nanoTime();
                    long f2 = minorFaults();
                    out.put("stored_tokens", stored);
                    out.put("hit_tokens", hit);
                    out.put("store_ms", ms(t1 - t0));
                    out.put("store_faults", f1 - f0);
                    out.put("retrieve_ms", ms(t2 - t1));
                    out.put("retrieve_faults", f2 - f1);
                } else {
                    long r0 = System.nanoTime();
                    long read = readFiles(dir, arena);
                    long r1 = System.nanoTime();
                    long f1 = minorFaults();
                    int hit = c.retrieve(prompt, target, slots);
                    long r2 = System.nanoTime();
                    long f2 = minorFaults();
                    int again = c.retrieve(prompt, target, slots);
                    long r3 = System.nanoTime();
                    out.put("raw_read_bytes", read);
                    out.put("raw_read_ms", ms(r1 - r0));
                    out.put("raw_read_ms_per_kv_bytes", round(ms(r1 - r0) * SMOLLM_135M.chunkBytes(TOKENS) / read));
                    out.put("hit_tokens", hit);
                    out.put("retrieve_ms", ms(r2 - r1));
                    out.put("retrieve_faults", f2 - f1);
                    out.put("again_tokens", again);
                    out.put("again_retrieve_ms", ms(r3 - r2));
                }
            }
            double[] copies = new double[5];
            for (int i = 0; i < copies.length; i++) {
                long t0 = System.nanoTime();
                BenchKv.rawCopy(flat, target, TOKENS);
                copies[i] = ms(System.nanoTime() - t0);
            }
            Arrays.sort(copies);
            out.put("raw_copy_ms", copies[copies.length / 2]);
            out.put("retrieve_vs_copy", round((double) out.get("retrieve_ms") / copies[copies.length / 2]));
        }
        System.out.println(out.entrySet().stream().map(e -> "\"" + e.getKey() + "\": " + e.getValue())
                .collect(Collectors.joining(", ", "{", "}")));
    }

    static LmCacheConfig config(Path dir) {
        return LmCacheConfig.builder().modelId("first-hit-probe").localDisk(dir).maxLocalDiskBytes(4L << 30).build();
    }

    /** Compiles the store, cpu-hit and disk-hit paths on a scratch directory, which it deletes. */
    private static void warmUpJit(Path scratch, HostKvMemory source, HostKvMemory target, int[] prompt, int[] slots)
            throws IOException {
        deleteTree(scratch);
        try {
            try (KvConnector c = KvConnectors.open(config(scratch), SMOLLM_135M)) {
                c.store(prompt, source, slots);
                c.retrieve(prompt, target, slots);
            }
            try (KvConnector c = KvConnectors.open(config(scratch), SMOLLM_135M)) {
                c.retrieve(prompt, target, slots);
            }
        } finally {
            deleteTree(scratch);
        }
    }

    /** A plain read of every regular file under {@code dir} into one touched buffer; returns the bytes read. */
    private static long readFiles(Path dir, Arena arena) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(Files::isRegularFile).toList();
        }
        long largest = 0;
        for (Path f : files) {
            largest = Math.max(largest, Files.size(f));
        }
        ByteBuffer buffer = arena.allocate(Math.max(largest, 1), 4096).fill((byte) 0).asByteBuffer();
        long total = 0;
        for (Path f : files) {
            try (FileChannel ch = FileChannel.open(f)) {
                buffer.clear();
                while (buffer.hasRemaining() && ch.read(buffer) > 0) {
                    // one large read per file
                }
                total += buffer.position();
            }
        }
        return total;
    }

    /** Minor page faults taken by this thread so far ({@code /proc/thread-self/stat}, field 10), or -1. */
    private static long minorFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[7]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static double ms(long nanos) {
        return round(nanos / 1e6);
    }

    private static double round(double v) {
        return Double.parseDouble(String.format(Locale.ROOT, "%.3f", v));
    }
}
