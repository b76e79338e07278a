package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.ChunkExplanation;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.MissCount;
import org.lmcache4j.api.MissReason;
import org.lmcache4j.api.PrefixPin;
import org.lmcache4j.storage.admin.AdminOptions;
import org.lmcache4j.storage.admin.AdminServer;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.storage.disk.DiskTiers;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.testing.FaultyTier;
import org.lmcache4j.testing.SeededKv;

/**
 * One scenario per miss reason, each producing exactly that reason, seen the three ways an operator sees
 * it: {@code stats().misses()}, {@code lmcache_miss_chunks_total{reason,tier}} on {@code /metrics}, and the
 * chunk's reason in {@code POST /lookup?explain=true}.
 */
class MissReasonsTest {

    @TempDir
    Path dir;

    private final Arena arena = Arena.ofShared();
    private TieredCacheEngine engine;
    private AdminServer admin;

    @AfterEach
    void tearDown() {
        if (admin != null) {
            admin.close();
        }
        if (engine != null) {
            engine.close();
        }
        arena.close();
    }

    private TieredCacheEngine open(LmCacheConfig config, StorageTier... slower) {
        engine = new TieredCacheEngine(config, SMALL, System::nanoTime, UnaryOperator.identity(), List.of(slower));
        return engine;
    }

    private int[] store(long seed, int chunks) {
        return Engines.storePrompt(engine, arena, seed, chunks);
    }

    /**
     * Runs {@code call} (a lookup or retrieve that misses) and checks that it counted exactly one chunk, under
     * {@code reason} and {@code tier}, in the stats and in {@code /metrics}, and that {@code /lookup?explain=true}
     * gives chunk {@code chunk} of {@code tokens} that reason and tier.
     */
    private void assertSeen(MissReason reason, String tier, int[] tokens, int chunk, Runnable call) throws IOException {
        long before = engine.stats().missChunks(reason, tier);
        long allBefore = engine.stats().misses().stream().mapToLong(MissCount::chunks).sum();
        call.run();
        long after = engine.stats().missChunks(reason, tier);
        assertEquals(before + 1, after, "stats().misses(): " + engine.stats().misses());
        assertEquals(allBefore + 1, engine.stats().misses().stream().mapToLong(MissCount::chunks).sum(),
                "no other reason counted: " + engine.stats().misses());
        admin = AdminServer.start(engine, AdminOptions.loopback());
        String metrics = http("GET", "/metrics", null);
        assertTrue(metrics.contains("\nlmcache_miss_chunks_total{reason=\"" + reason.label() + "\",tier=\"" + tier + "\"} "
                + after + "\n"), metrics);
        long lookupsBefore = engine.stats().lookups();
        String explained = http("POST", "/lookup?explain=true", "{\"tokens\":["
                + Arrays.stream(tokens).mapToObj(Integer::toString).collect(Collectors.joining(",")) + "]}");
        assertEquals(lookupsBefore, engine.stats().lookups(), "explaining counts no lookup");
        assertEquals(after, engine.stats().missChunks(reason, tier), "and no miss");
        assertTrue(explained.contains("{\"index\":" + chunk + ",\"start\":" + chunk * CHUNK + ","), explained);
        String fromChunk = explained.substring(explained.indexOf("{\"index\":" + chunk + ","));
        assertTrue(fromChunk.matches("(?s)\\{\"index\":" + chunk + ",\"start\":\\d+,\"end\":\\d+,\"key\":\"[0-9a-f]+\",\"hit\":false,"
                + "\"tier\":\"" + tier + "\",\"reason\":\"" + reason.label() + "\",\"detail\":.*"), explained);
        ChunkExplanation direct = engine.explain(tokens).chunks().get(chunk);
        assertEquals(reason, direct.reason().orElseThrow());
    }

    @Test
    void absent() throws IOException {
        open(Engines.config().build());
        int[] tokens = SeededKv.tokens(1, 3 * CHUNK);
        assertSeen(MissReason.ABSENT, MissCount.NO_TIER, tokens, 0, () -> assertEquals(0, engine.lookup(tokens)));
    }

    @Test
    void evictedByTheCpuTier() throws IOException {
        open(Engines.config().maxLocalCpuBytes(2 * CHUNK_BYTES).build());
        int[] first = store(1, 2);
        store(2, 2);
        assertSeen(MissReason.EVICTED, CpuTier.NAME, first, 0, () -> assertEquals(0, engine.lookup(first)));
    }

    @Test
    void evictedByTheDiskTier() throws Exception {
        long fileBytes = DiskChunkFormat.fileBytes(CHUNK_BYTES);
        StorageTier disk = DiskTiers.open(dir, 2 * fileBytes + CHUNK_BYTES / 2, SMALL.fingerprint());
        open(Engines.config().maxLocalCpuBytes(2 * CHUNK_BYTES).build(), disk);
        int[] first = store(1, 2);
        awaitChunks(disk, 2);
        store(2, 2); // evicts the first prompt from the cpu tier, then from the disk tier when written behind
        awaitWriteBehind();
        assertSeen(MissReason.EVICTED, DiskTiers.NAME, first, 0, () -> assertEquals(0, engine.lookup(first)));
    }

    @Test
    void corruptOnDisk() throws IOException {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES).build();
        int[] tokens;
        try (TieredCacheEngine writer = Engines.open(config)) {
            tokens = Engines.storePrompt(writer, arena, 1, 2);
        } // drains the write-behind to disk
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".kv")).toList()) {
                flipLastByte(f);
            }
        }
        engine = Engines.open(config);
        HostKvMemory target = SeededKv.contiguous(arena, SMALL, tokens.length);
        assertSeen(MissReason.CORRUPT, DiskTiers.NAME, tokens, 0, () -> assertEquals(0,
                engine.retrieve(tokens, target, SeededKv.identitySlots(tokens.length)), "never served"));
    }

    @Test
    void identityMismatch() throws IOException {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES).build();
        int[] tokens;
        try (TieredCacheEngine writer = Engines.open(config)) {
            tokens = Engines.storePrompt(writer, arena, 1, 2);
        }
        Path record = dir.resolve(config.identity(SMALL).directoryName()).resolve(DiskTiers.IDENTITY_FILE);
        Files.writeString(record, Files.readString(record).replace("chunk_tokens=16", "chunk_tokens=32"));
        engine = Engines.open(config);
        assertSeen(MissReason.IDENTITY_MISMATCH, DiskTiers.NAME, tokens, 0, () -> assertEquals(0, engine.lookup(tokens)));
    }

    @Test
    void deadline() throws Exception {
        CpuTier slowStore = new CpuTier(64 * CHUNK_BYTES, CHUNK_BYTES);
        SlowTier slow = new SlowTier(slowStore, 300);
        // 160 tokens/s: the first 16-token chunk is worth loading only if it arrives within 100 ms
        open(Engines.config().maxLocalCpuBytes(2 * CHUNK_BYTES).recomputeTokensPerSecond(160).build(), slow);
        int[] tokens = store(1, 2);
        awaitChunks(slowStore, 2);
        store(2, 2); // pushes the prompt out of the cpu tier: only the slow tier has it
        HostKvMemory target = SeededKv.contiguous(arena, SMALL, tokens.length);
        // the first chunk (the tier unmeasured: optimistic) takes 300 ms and measures the slow tier
        assertEquals(CHUNK, engine.retrieve(tokens, target, SeededKv.identitySlots(tokens.length)));
        store(3, 2);
        awaitWriteBehind();
        assertSeen(MissReason.DEADLINE, slow.name(), tokens, 0,
                () -> assertEquals(0, engine.lookup(tokens), "300 ms a chunk is slower than recomputing"));
    }

    @Test
    void tierUnhealthy() throws IOException {
        FaultyTier failing = new FaultyTier(DiskTiers.open(dir, 64 * CHUNK_BYTES, SMALL.fingerprint())).failContains(true);
        open(Engines.config().build(), failing);
        int[] tokens = SeededKv.tokens(1, 2 * CHUNK);
        assertSeen(MissReason.TIER_UNHEALTHY, DiskTiers.NAME, tokens, 0, () -> assertEquals(0, engine.lookup(tokens)));
    }

    @Test
    void droppedAtStoreBecauseEveryPageWasPinned() throws IOException {
        open(Engines.config().maxLocalCpuBytes(CHUNK_BYTES).build());
        int[] pinned = store(1, 1);
        try (PrefixPin pin = engine.lookupAndPin(pinned)) {
            assertEquals(CHUNK, pin.tokens());
            int[] dropped = store(2, 1);
            assertEquals(1, engine.stats().storeDroppedChunks());
            assertSeen(MissReason.PINNED_FULL, CpuTier.NAME, dropped, 0, () -> assertEquals(0, engine.lookup(dropped)));
        }
    }

    @Test
    void aPartialTailOfAnotherLength() throws IOException {
        open(Engines.config().saveUnfullChunk(true).build());
        int[] stored = SeededKv.tokens(1, CHUNK + 10);
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, stored.length);
        int[] slots = SeededKv.identitySlots(stored.length);
        SeededKv.fill(kv, stored, slots);
        engine.store(stored, kv, slots);
        int[] shorter = Arrays.copyOf(stored, CHUNK + 5);
        assertSeen(MissReason.PARTIAL_TAIL, MissCount.NO_TIER, shorter, 1,
                () -> assertEquals(CHUNK, engine.lookup(shorter), "the full chunk hits, the 5-token tail does not"));
    }

    @Test
    void aPartialTailThatWasEvictedIsEvictedNotAnotherLength() throws IOException {
        open(Engines.config().saveUnfullChunk(true).maxLocalCpuBytes(2 * CHUNK_BYTES).build());
        int[] stored = SeededKv.tokens(1, CHUNK + 10);
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, stored.length);
        int[] slots = SeededKv.identitySlots(stored.length);
        SeededKv.fill(kv, stored, slots);
        engine.store(stored, kv, slots);
        store(2, 1); // evicts the oldest chunk: the first prompt's full chunk 0... and then its tail
        store(3, 1);
        int[] kept = Arrays.copyOf(stored, CHUNK);
        engine.store(kept, kv, Arrays.copyOf(slots, CHUNK)); // chunk 0 back; the 10-token tail stays evicted
        int[] longer = Arrays.copyOf(stored, 2 * CHUNK); // extends the stored prompt past its tail
        System.arraycopy(SeededKv.tokens(9, CHUNK - 10), 0, longer, CHUNK + 10, CHUNK - 10);
        assertSeen(MissReason.EVICTED, CpuTier.NAME, longer, 1,
                () -> assertEquals(CHUNK, engine.lookup(longer), "the tail that would have matched is gone"));
    }

    @Test
    void aDepartureExplainsAMissBeforeARefusedTierDoes() throws IOException {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES).maxLocalCpuBytes(2 * CHUNK_BYTES)
                .build();
        try (TieredCacheEngine writer = Engines.open(config)) {
            Engines.storePrompt(writer, arena, 7, 1);
        }
        Path record = dir.resolve(config.identity(SMALL).directoryName()).resolve(DiskTiers.IDENTITY_FILE);
        Files.writeString(record, Files.readString(record).replace("tp_world_size=1", "tp_world_size=2"));
        engine = Engines.open(config); // its disk tier is refused
        int[] first = store(1, 2);
        store(2, 2);
        assertSeen(MissReason.EVICTED, CpuTier.NAME, first, 0, () -> assertEquals(0, engine.lookup(first)));
    }

    // ---- helpers -------------------------------------------------------------------------------------

    private void awaitWriteBehind() throws InterruptedException {
        for (int i = 0; i < 2000 && engine.stats().writeBehindQueued() > 0; i++) {
            Thread.sleep(5);
        }
        Thread.sleep(50); // the chunk taken last may still be in flight
    }

    private static void awaitChunks(StorageTier tier, int n) throws InterruptedException {
        for (int i = 0; i < 2000 && tier.stats().chunks() < n; i++) {
            Thread.sleep(5);
        }
        assertEquals(n, tier.stats().chunks());
    }

    private static void flipLastByte(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, ch.size() - 1);
            b.put(0, (byte) ~b.get(0)).rewind();
            ch.write(b, ch.size() - 1);
        }
    }

    private String http(String method, String path, String body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + admin.port() + path).toURL().openConnection();
        c.setRequestMethod(method);
        if (body != null) {
            c.setDoOutput(true);
            try (OutputStream out = c.getOutputStream()) {
                out.write(body.getBytes(StandardCharsets.UTF_8));
            }
        }
        assertEquals(200, c.getResponseCode(), method + " " + path);
        try (InputStream in = c.getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            c.disconnect();
        }
    }
}
