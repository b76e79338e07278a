package org.lmcache4j.examples.demo;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.lmcache4j.api.ChunkExplanation;
import org.lmcache4j.api.KvConnector;

/**
 * The baseline of a disk-tier hit: a plain read of the chunk files the retrieve will read
 * ({@code FileChannel.read} of each whole file, header included, into off-heap memory touched in
 * advance), in the same process and the same page-cache state as the retrieve.
 *
 * <p>Whichever reads the files first would warm the page cache for the other, so the state is set
 * before each read, and checked with {@code mincore}: {@link CacheState#COLD} (the default) evicts the
 * files ({@code fdatasync}, then {@code posix_fadvise(DONTNEED)}): every read comes from the device, as
 * after a restart once the kernel has reclaimed the files; {@link CacheState#WARM} reads them once
 * untimed, so every read comes from the page cache. The order is: set, raw read; set, retrieve (by the
 * caller); set, raw read again; the baseline is the faster of the two raw reads, so neither the first
 * read of the device nor any cache below the page cache favours the retrieve. Without {@link PageCache}
 * (not Linux) a cold state cannot be set: the state is then "unknown".
 */
final class ChunkFileBaseline implements AutoCloseable {

    private static final long PAGE_BYTES = 4096;

    /** The page-cache state each read starts from. */
    enum CacheState {
        /** Evicted before each read: reads come from the device. */
        COLD,
        /** Read once, untimed, before each read: reads come from the page cache. */
        WARM;

        /** The name used in options and the report. */
        String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The state called {@code label}. */
        static CacheState of(String label) {
            for (CacheState s : values()) {
                if (s.label().equals(label)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("disk cache state: " + label + " (expected: cold or warm)");
        }
    }

    private final List<Path> files;
    private final int tokens;
    private final String problem;
    private final CacheState state;
    private final Optional<PageCache> pageCache = PageCache.probe();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer;
    private final List<Double> readMs = new ArrayList<>();
    private final List<Double> residentBefore = new ArrayList<>();

    private ChunkFileBaseline(List<Path> files, int tokens, String problem, CacheState state) throws IOException {
        this.files = List.copyOf(files);
        this.tokens = tokens;
        this.problem = problem;
        this.state = state;
        long bytes = 0;
        for (Path f : files) {
            bytes += Files.size(f);
        }
        boolean ok = false;
        try {
            buffer = arena.allocate(Math.max(1, bytes), PAGE_BYTES);
            for (long at = 0; at < buffer.byteSize(); at += PAGE_BYTES) {
                buffer.set(ValueLayout.JAVA_BYTE, at, (byte) 1); // touched now, not inside a timed read
            }
            ok = true;
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    /**
     * The files of the chunks a retrieve of {@code prompt} through {@code cache} will read from the disk
     * tier under {@code kvDir}: the prefix the engine retrieves (lookup capped at the prompt's length - 1),
     * every chunk of it served by the disk tier. Each read will start from {@code state}.
     */
    static ChunkFileBaseline of(KvConnector cache, int[] prompt, Path kvDir, CacheState state) throws IOException {
        int hit = Math.min(cache.lookup(prompt), prompt.length - 1);
        Map<String, Path> byName = new HashMap<>();
        try (Stream<Path> walk = Files.walk(kvDir)) {
            walk.filter(Files::isRegularFile).forEach(p -> byName.put(p.getFileName().toString(), p));
        }
        List<Path> files = new ArrayList<>();
        int covered = 0;
        String problem = "";
        if (hit > 0) {
            for (ChunkExplanation c : cache.explain(Arrays.copyOf(prompt, hit)).chunks()) {
                if (!c.hit()) {
                    break;
                }
                Path file = byName.get(c.key() + ".kv");
                if (!c.tier().equals("disk") || file == null) {
                    problem = "chunk " + c.index() + " (" + c.key() + "): tier " + c.tier() + ", file "
                            + (file == null ? "not found under " + kvDir : file) + " (expected: a disk-tier chunk file)";
                    break;
                }
                files.add(file);
                covered = c.end();
            }
        }
        return new ChunkFileBaseline(files, covered, problem, state);
    }

    /** Prompt tokens the files hold. */
    int tokens() {
        return tokens;
    }

    /** Sets the state, then reads every file once, timed. */
    void read() throws IOException {
        prepare();
        long t0 = System.nanoTime();
        readAll();
        readMs.add((System.nanoTime() - t0) / 1e6);
    }

    private void readAll() throws IOException {
        long at = 0;
        for (Path f : files) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                long size = ch.size();
                ByteBuffer b = buffer.asSlice(at, size).asByteBuffer();
                while (b.hasRemaining()) {
                    if (ch.read(b) < 0) {
                        throw new IOException(f + ": ended after " + b.position() + " of " + size + " bytes (expected: the whole file)");
                    }
                }
                at += size;
            }
        }
    }

    /** Sets the state for the retrieve the caller runs next. */
    void beforeRetrieve() throws IOException {
        prepare();
    }

    private void prepare() throws IOException {
        if (state == CacheState.WARM) {
            readAll();
        } else if (pageCache.isPresent()) {
            pageCache.get().evict(files);
        }
        if (pageCache.isPresent()) {
            residentBefore.add(pageCache.get().residentFraction(files));
        }
    }

    /** The baseline, once {@link #read} ran before and after the retrieve that delivered {@code retrievedTokens}. */
    RawBaseline result(int retrievedTokens) {
        long bytes = buffer.byteSize();
        String method = String.format(Locale.ROOT, "FileChannel.read of the %d chunk files the retrieve read (%,d bytes, headers "
                + "included) into touched off-heap memory, before and after the retrieve (%s ms); the faster of the two", files.size(),
                bytes, String.join(" and ", readMs.stream().map(v -> String.format(Locale.ROOT, "%.1f", v)).toList()));
        String problem = !this.problem.isEmpty() ? this.problem
                : retrievedTokens != tokens ? "the retrieve delivered " + retrievedTokens + " tokens, the files hold " + tokens
                : files.isEmpty() ? "no chunk file to read" : "";
        if (!problem.isEmpty() || readMs.size() < 2) {
            return new RawBaseline(Double.NaN, 0, "not measured: " + (problem.isEmpty() ? "fewer than two reads" : problem), "unknown", "");
        }
        double ms = Math.min(readMs.get(0), readMs.get(1));
        String set = state == CacheState.COLD
                ? "fdatasync and posix_fadvise(POSIX_FADV_DONTNEED) on every chunk file before each read (raw, retrieve, raw)"
                : "every chunk file read once, untimed, before each read (raw, retrieve, raw)";
        if (pageCache.isEmpty()) {
            return state == CacheState.COLD
                    ? new RawBaseline(ms, bytes, method, "unknown", "no page-cache control on this system (posix_fadvise and mincore "
                            + "through libc are Linux only): the raw reads ran before and after the retrieve, with whatever was cached")
                    : new RawBaseline(ms, bytes, method, "warm", set + "; residency not checked (no mincore on this system)");
        }
        double least = residentBefore.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        double most = residentBefore.stream().mapToDouble(Double::doubleValue).max().orElse(1);
        String how = String.format(Locale.ROOT, "%s; mincore found %s of their pages resident before the reads", set, percents());
        String reached = state == CacheState.COLD ? (most <= 0.01 ? "cold" : "partly warm") : (least >= 0.99 ? "warm" : "partly cold");
        return new RawBaseline(ms, bytes, method, reached, how);
    }

    private String percents() {
        return String.join(" / ", residentBefore.stream().map(f -> String.format(Locale.ROOT, "%.1f%%", 100 * f)).toList());
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
