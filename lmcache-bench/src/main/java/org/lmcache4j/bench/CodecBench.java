package org.lmcache4j.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.KvCodec;
import org.lmcache4j.api.spi.KvCodecs;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.nativeio.Libc;

/**
 * The codecs on the path, measured on the chunks given (the reference engine's KV in {@code bin/lmcache
 * bench --quick}): each codec's ratio and its encode and decode speed on one core, and what the best
 * lossless codec does to the disk and remote tiers' read bandwidth in logical bytes per second, against
 * the same tier storing raw, in the same run:
 * <ul>
 *   <li>{@code disk_lossless_effective_read_gain}: a disk tier's reads of every chunk with the page cache
 *       dropped before each pass (the device's bandwidth is what a codec can save), raw time / codec time;</li>
 *   <li>{@code remote_lossless_effective_read_gain}: a remote tier on a loopback {@code redis-server}, the
 *       same ratio (null when redis-server is not installed).</li>
 * </ul>
 * Passes alternate between the configurations so that drifts of the machine hit both alike; each figure
 * is a median of {@value #PASSES} passes after untimed ones, at least one and more until the JIT's compilers
 * are idle ({@link JitQuiet#runUntilQuiet}).
 */
public final class CodecBench {

    static final int PASSES = 5;

    private CodecBench() {
    }

    /**
     * Measures the codecs on {@code chunks} (whole tokens of {@code layout} each), using {@code dir} for the
     * disk tiers, and returns the report's fields.
     */
    public static Map<String, Object> run(Path dir, KvLayout layout, List<MemorySegment> chunks, Consumer<String> progress) {
        return run(dir, layout, chunks, progress, codec -> !codec.name().startsWith("test-"));
    }

    /** As {@link #run(Path, KvLayout, List, Consumer)} over the codecs {@code measured} accepts. */
    static Map<String, Object> run(Path dir, KvLayout layout, List<MemorySegment> chunks, Consumer<String> progress,
                                   java.util.function.Predicate<KvCodec> measured) {
        Map<String, Object> out = new LinkedHashMap<>();
        List<Map<String, Object>> codecs = new ArrayList<>();
        List<String> lossless = new ArrayList<>();
        for (KvCodec codec : KvCodecs.byName().values()) {
            if (!codec.supports(layout) || !measured.test(codec)) {
                continue;
            }
            progress.accept("codecs: " + codec.name());
            codecs.add(speed(codec, layout, chunks));
            if (!codec.lossy()) {
                lossless.add(codec.name());
            }
        }
        out.put("codec_chunks", chunks.size());
        out.put("codec_logical_bytes", chunks.stream().mapToLong(MemorySegment::byteSize).sum());
        out.put("codecs", codecs);
        if (lossless.isEmpty()) {
            out.put("disk_lossless_effective_read_gain", null);
            out.put("remote_lossless_effective_read_gain", null);
            return out;
        }
        progress.accept("codecs: disk tier reads, page cache dropped");
        gains(out, "disk", lossless, layout, chunks, disk(dir.resolve("codec-disk")));
        Optional<LoopbackRedis> redis = startRedis();
        if (redis.isEmpty()) {
            out.put("remote_lossless_effective_read_gain", null);
            out.put("remote_lossless_note", "redis-server not found on the PATH");
            return out;
        }
        progress.accept("codecs: remote tier reads");
        try (LoopbackRedis server = redis.get()) {
            gains(out, "remote", lossless, layout, chunks, remote(server.port()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** One codec's ratio and single-core speeds over all chunks. */
    private static Map<String, Object> speed(KvCodec codec, KvLayout layout, List<MemorySegment> chunks) {
        long logical = chunks.stream().mapToLong(MemorySegment::byteSize).sum();
        try (Arena arena = Arena.ofConfined()) {
            List<MemorySegment> encoded = new ArrayList<>();
            List<MemorySegment> decoded = new ArrayList<>();
            for (MemorySegment c : chunks) {
                encoded.add(arena.allocate(codec.maxEncodedBytes(layout, c.byteSize()), 64));
                decoded.add(arena.allocate(c.byteSize(), 64));
            }
            long[] lengths = new long[chunks.size()];
            double[] enc = new double[PASSES];
            double[] dec = new double[PASSES];
            Runnable encodeAll = () -> {
                for (int i = 0; i < chunks.size(); i++) {
                    lengths[i] = codec.encode(layout, chunks.get(i), encoded.get(i));
                }
            };
            Runnable decodeAll = () -> {
                for (int i = 0; i < chunks.size(); i++) {
                    if (lengths[i] >= 0) {
                        codec.decode(layout, encoded.get(i).asSlice(0, lengths[i]), decoded.get(i));
                    }
                }
            };
            JitQuiet.runUntilQuiet(() -> {
                encodeAll.run();
                decodeAll.run();
            }, 1, 0);
            for (int pass = 0; pass < PASSES; pass++) {
                long t0 = System.nanoTime();
                encodeAll.run();
                long t1 = System.nanoTime();
                decodeAll.run();
                long t2 = System.nanoTime();
                enc[pass] = t1 - t0;
                dec[pass] = t2 - t1;
            }
            long stored = 0;
            for (int i = 0; i < chunks.size(); i++) {
                stored += lengths[i] < 0 ? chunks.get(i).byteSize() : lengths[i];
                if (!codec.lossy() && lengths[i] >= 0 && decoded.get(i).mismatch(chunks.get(i)) != -1) {
                    throw new IllegalStateException("codec " + codec.name() + ": chunk " + i + " did not decode to its bytes");
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("codec", codec.name());
            m.put("lossy", codec.lossy());
            m.put("ratio", QuickBench.round((double) logical / stored));
            m.put("encode_gb_per_s", QuickBench.round(logical / QuickBench.median(enc)));
            m.put("decode_gb_per_s", QuickBench.round(logical / QuickBench.median(dec)));
            m.put("chunks_stored_raw", java.util.Arrays.stream(lengths).filter(n -> n < 0).count());
            return m;
        }
    }

    /** Where a tier of each codec is opened and what to do before each timed pass over it. */
    private interface TierSetup {
        /** The URL of the tier storing chunks with {@code codec}. */
        String url(String codec);

        /** Runs before each pass over the tier of {@code url} whose directory is {@code dir} (null: not a directory). */
        void beforePass(Path dir);

        /** The directory under which the tier of {@code url} keeps its namespace's files, or null. */
        Path root(String codec);
    }

    /**
     * Measures raw and each lossless codec in a tier of each, passes alternating between them, and puts
     * {@code <tier>_lossless_effective_read_gain} (the best codec's), its codec and every codec's median read
     * time into {@code out}.
     */
    private static void gains(Map<String, Object> out, String tier, List<String> lossless, KvLayout layout, List<MemorySegment> chunks,
                              TierSetup setup) {
        List<String> codecs = new ArrayList<>();
        codecs.add(KvCodecs.RAW);
        codecs.addAll(lossless);
        Map<String, double[]> passes = timed(setup, layout, chunks, codecs);
        double raw = QuickBench.median(passes.get(KvCodecs.RAW));
        out.put(tier + "_read_ms_raw", QuickBench.round(raw / 1e6));
        double best = 0;
        String bestCodec = null;
        for (String codec : lossless) {
            double t = QuickBench.median(passes.get(codec));
            out.put(tier + "_read_ms_" + codec, QuickBench.round(t / 1e6));
            if (raw / t > best) {
                best = raw / t;
                bestCodec = codec;
            }
        }
        out.put(tier + "_lossless_effective_read_gain", QuickBench.round(best));
        out.put(tier + "_lossless_codec", bestCodec);
    }

    private static TierSetup disk(Path dir) {
        Libc libc = Libc.instance().orElseThrow(() -> new IllegalStateException("dropping the page cache needs Linux's libc"));
        return new TierSetup() {
            @Override
            public String url(String codec) {
                return root(codec).toUri() + "?capacity=64g&codec=" + codec;
            }

            @Override
            public void beforePass(Path tierDir) {
                try (Stream<Path> files = Files.walk(tierDir)) {
                    files.filter(f -> f.toString().endsWith(".kv")).forEach(f -> libc.dropFromPageCache(f.toString()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public Path root(String codec) {
                return dir.resolve(codec.replace('+', '_'));
            }
        };
    }

    private static TierSetup remote(int port) {
        return new TierSetup() {
            @Override
            public String url(String codec) {
                return "redis://127.0.0.1:" + port + "?codec=" + codec;
            }

            @Override
            public void beforePass(Path dir) {
            }

            @Override
            public Path root(String codec) {
                return null;
            }
        };
    }

    /**
     * Puts every chunk into a tier of each of {@code codecs}, then reads them all back {@value #PASSES} times
     * after untimed passes (the first checks every byte read against what was put, lossless tiers; more follow
     * until the JIT is idle), a pass over each tier in turn, in batches of {@link StorageTier#readAheadChunks} chunks read with one
     * {@code readAllInto} each, as a retrieve reading ahead does; returns each codec's pass times in nanoseconds.
     */
    private static Map<String, double[]> timed(TierSetup setup, KvLayout layout, List<MemorySegment> chunks, List<String> codecs) {
        long largest = chunks.stream().mapToLong(MemorySegment::byteSize).max().orElse(1);
        Map<String, StorageTier> tiers = new LinkedHashMap<>();
        Map<String, Path> dirs = new LinkedHashMap<>();
        Map<String, double[]> times = new LinkedHashMap<>();
        List<ChunkKey> keys = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            keys.add(ChunkKey.ofHex(String.format("%064x", 1000L + i)));
        }
        try (Arena arena = Arena.ofShared()) {
            for (String codec : codecs) {
                CacheIdentity identity = new CacheIdentity(new CacheNamespace("codecbench-" + UUID.randomUUID(), layout.fingerprint(), "",
                        0, 1), 256, HashAlgorithm.SHA_256);
                String url = setup.url(codec);
                StorageTier tier = StorageTiers.open(url, identity, new TierOptions(largest, 64L << 30, layout));
                tiers.put(codec, tier);
                Path root = setup.root(codec);
                dirs.put(codec, root == null ? null : root.resolve(identity.directoryName()));
                times.put(codec, new double[PASSES]);
            }
            // Chunk by chunk across the tiers, so that every tier's files are written at the same times: on a device
            // whose speed depends on when (or where) a file was written, each tier gets the same mix.
            for (int i = 0; i < chunks.size(); i++) {
                for (String codec : codecs) {
                    if (!tiers.get(codec).put(keys.get(i), chunks.get(i))) {
                        throw new IllegalStateException(setup.url(codec) + ": refused chunk " + i);
                    }
                }
            }
            List<MemorySegment> pages = new ArrayList<>();
            for (int i = 0; i < chunks.size(); i++) {
                MemorySegment page = arena.allocate(largest, 4096);
                page.fill((byte) 1); // touched once, as the cpu tier's pages are
                pages.add(page);
            }
            int batch = StorageTier.readAheadChunks(largest);
            for (String codec : codecs) { // the first pass checks every byte read against what was put
                readAll(setup, codec, tiers.get(codec), dirs.get(codec), keys, chunks, pages, batch);
                for (int i = 0; !tiers.get(codec).servesLossy() && i < chunks.size(); i++) {
                    if (pages.get(i).asSlice(0, chunks.get(i).byteSize()).mismatch(chunks.get(i)) != -1) {
                        throw new IllegalStateException(setup.url(codec) + ": chunk " + i + " read back other bytes than were put");
                    }
                }
            }
            JitQuiet.runUntilQuiet(() -> { // untimed passes until the JIT is idle (its compiles take a core)
                for (String codec : codecs) {
                    readAll(setup, codec, tiers.get(codec), dirs.get(codec), keys, chunks, pages, batch);
                }
            }, 1, 0);
            for (int pass = 0; pass < PASSES; pass++) {
                for (String codec : codecs) {
                    times.get(codec)[pass] = readAll(setup, codec, tiers.get(codec), dirs.get(codec), keys, chunks, pages, batch);
                }
            }
        } finally {
            for (StorageTier tier : tiers.values()) {
                tier.clear();
                tier.close();
            }
        }
        return times;
    }

    /**
     * One pass over {@code tier}: {@code setup}'s preparation (not timed), then every chunk read into its page in
     * batches of {@code batch} chunks with one {@code readAllInto} each, as a retrieve reading ahead does; its time
     * in nanoseconds.
     */
    private static long readAll(TierSetup setup, String codec, StorageTier tier, Path dir, List<ChunkKey> keys,
                                List<MemorySegment> chunks, List<MemorySegment> pages, int batch) {
        setup.beforePass(dir);
        long t0 = System.nanoTime();
        for (int from = 0; from < chunks.size(); from += batch) {
            int to = Math.min(chunks.size(), from + batch);
            long[] n = tier.readAllInto(keys.subList(from, to), pages.subList(from, to));
            for (int i = from; i < to; i++) {
                if (n[i - from] != chunks.get(i).byteSize()) {
                    throw new IllegalStateException(setup.url(codec) + ": lost chunk " + i);
                }
            }
        }
        return System.nanoTime() - t0;
    }

    private static Optional<LoopbackRedis> startRedis() {
        try {
            return Optional.of(LoopbackRedis.start());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
