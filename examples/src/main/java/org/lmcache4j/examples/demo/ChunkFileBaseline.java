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
 * before each read: the files are evicted ({@code fdatasync}, then {@code posix_fadvise(DONTNEED)}) and
 * their residency checked with {@code mincore}. The order is: evict, raw read; evict, retrieve (by the
 * caller); evict, raw read again; the baseline is the faster of the two raw reads, so neither the first
 * read of the device nor any cache below the page cache favours the retrieve. Without {@link PageCache}
 * (not Linux) the state is "unknown" and the reads only bracket the retrieve.
 */
final class ChunkFileBaseline implements AutoCloseable {

    private static final long PAGE_BYTES = 4096;

    private final List<Path> files;
    private final int tokens;
    private final String problem;
    private final Optional<PageCache> pageCache = PageCache.probe();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer;
    private final List<Double> readMs = new ArrayList<>();
    private final List<Double> residentBefore = new ArrayList<>();

    private ChunkFileBaseline(List<Path> files, int tokens, String problem) throws IOException {
        this.files = List.copyOf(files);
        this.tokens = tokens;
        this.problem = problem;
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
     * every chunk of it served by the disk tier.
     */
    static ChunkFileBaseline of(KvConnector cache, int[] prompt, Path kvDir) throws IOException {
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
        return new ChunkFileBaseline(files, covered, problem);
    }

    /** Prompt tokens the files hold. */
    int tokens() {
        return tokens;
    }

    /** Sets the state (evicts), then reads every file once, timed. */
    void read() throws IOException {
        prepare();
        long t0 = System.nanoTime();
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
        readMs.add((System.nanoTime() - t0) / 1e6);
    }

    /** Sets the state for the retrieve the caller runs next. */
    void beforeRetrieve() throws IOException {
        prepare();
    }

    private void prepare() throws IOException {
        if (pageCache.isPresent()) {
            pageCache.get().evict(files);
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
        if (pageCache.isEmpty()) {
            return new RawBaseline(ms, bytes, method, "unknown", "no page-cache control on this system (posix_fadvise and mincore "
                    + "through libc are Linux only): the raw reads ran before and after the retrieve, with whatever was cached");
        }
        double worst = residentBefore.stream().mapToDouble(Double::doubleValue).max().orElse(1);
        String how = String.format(Locale.ROOT, "fdatasync and posix_fadvise(POSIX_FADV_DONTNEED) on every chunk file before each "
                + "read (raw, retrieve, raw); mincore found %s of their pages resident before the reads", percents());
        return new RawBaseline(ms, bytes, method, worst <= 0.01 ? "cold" : "partly warm", how);
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
