package org.lmcache4j.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;

/**
 * {@code shared_pool_vs_cpu_ratio}: a retrieve served by the node-shared pool from another engine's store, against a
 * cpu-tier retrieve of the same bytes in the engine that stored them. Engine A stores a prompt into a pool in
 * {@code /dev/shm} (no cpu tier of its own, as engines sharing a pool run); engine B, a second connector with its own
 * attachment and its own mapping of the pool file (what a second JVM has), retrieves it into touched engine memory.
 * B's first retrieve, which faults its mapping's page-table entries in, is reported apart
 * ({@code shared_pool_first_retrieve_ms}); the ratio compares medians of 31 warm retrieves each, after 30 untimed,
 * the two sides and the plain copy taken in turn so that the machine's other work weighs on each alike.
 * {@code shared_pool_vs_shm_copy_ratio} compares the pool's retrieve with a plain copy of the same bytes out of shared
 * memory, the physical limit on machines whose kernel gives shared memory no huge pages.
 */
final class SharedPoolQuickBench {

    private SharedPoolQuickBench() {
    }

    /**
     * The physical side: a file in the same shared memory, mapped and touched, holding the same bytes, for a plain
     * copy ({@code BenchKv.rawCopy}) into the same engine memory: what reading tmpfs pages costs before any protocol
     * (4 KiB pages where the kernel gives shared memory no huge pages, against the cpu tier's huge pages).
     */
    private static MemorySegment shmFile(Path file, long bytes, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment flat = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
            flat.fill((byte) 7);
            return flat;
        }
    }

    static void run(KvLayout layout, int tokens, Map<String, Object> out) throws IOException {
        Path shm = Path.of("/dev/shm");
        Path root = Files.isDirectory(shm) ? Files.createTempDirectory(shm, "lmcache4j-quickbench-")
                : Files.createTempDirectory("lmcache4j-quickbench-");
        String url = "pool://" + root.toUri().getRawPath() + "?size=" + 2 * layout.chunkBytes(tokens) + "&embed=true";
        LmCacheConfig poolConfig = LmCacheConfig.builder().modelId("quickbench-pool").localCpu(false).localDisk(null)
                .tiers(List.of(url)).build();
        try (Arena arena = Arena.ofShared();
             KvConnector cpu = KvConnectors.open(LmCacheConfig.builder().modelId("quickbench-pool").noLocalDisk()
                     .maxLocalCpuBytes(2 * layout.chunkBytes(tokens)).build(), layout);
             KvConnector a = KvConnectors.open(poolConfig, layout);
             KvConnector b = KvConnectors.open(poolConfig, layout)) {
            HostKvMemory source = BenchKv.contiguous(arena, layout, tokens, 1);
            HostKvMemory target = BenchKv.contiguous(arena, layout, tokens, 2);
            int[] prompt = BenchKv.tokens(3, tokens);
            int[] slots = BenchKv.identity(tokens);
            cpu.store(prompt, source, slots);
            a.store(prompt, source, slots);
            long t0 = System.nanoTime();
            int first = b.retrieve(prompt, target, slots);
            double firstNanos = System.nanoTime() - t0;
            if (first != tokens) {
                throw new IllegalStateException("the pool served " + first + " of " + tokens + " tokens (expected: all)");
            }
            MemorySegment flat = shmFile(root.resolve("raw-copy"), layout.chunkBytes(tokens), arena);
            double[] medians = QuickBench.medianNanosAlternating(30, 31, () -> b.retrieve(prompt, target, slots),
                    () -> cpu.retrieve(prompt, target, slots), () -> BenchKv.rawCopy(flat, target, tokens));
            double pool = medians[0];
            double local = medians[1];
            double shmCopy = medians[2];
            out.put("shared_pool_retrieve_ms", QuickBench.round(pool / 1e6));
            out.put("shared_pool_first_retrieve_ms", QuickBench.round(firstNanos / 1e6));
            out.put("shared_pool_cpu_retrieve_ms", QuickBench.round(local / 1e6));
            out.put("shared_pool_shm_copy_ms", QuickBench.round(shmCopy / 1e6));
            out.put("shared_pool_vs_cpu_ratio", QuickBench.round(pool / local));
            out.put("shared_pool_vs_shm_copy_ratio", QuickBench.round(pool / shmCopy));
        } finally {
            QuickBench.deleteTree(root);
        }
    }
}
