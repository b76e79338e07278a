package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.disk.DiskTiers;
import org.lmcache4j.storage.disk.FaultyDiskIo;
import org.lmcache4j.testing.SeededKv;

/**
 * A full, failing or read-only disk never reaches the engine: the cpu tier keeps serving byte for
 * byte, the disk's failures are counted and the disk reports unhealthy.
 */
class DiskFaultEngineTest {

    @TempDir
    Path dir;

    private static TierStats disk(TieredCacheEngine engine) {
        return engine.stats().tiers().get(1);
    }

    /** Stores three prompts and retrieves each into a different buffer, byte for byte; returns errors seen. */
    private static void storeAndRetrieveFromCpu(TieredCacheEngine engine, Arena arena) {
        for (int seed = 1; seed <= 3; seed++) {
            int[] tokens = SeededKv.tokens(seed, 3 * CHUNK);
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, tokens.length);
            int[] slots = SeededKv.identitySlots(tokens.length);
            SeededKv.fill(kv, tokens, slots);
            assertEquals(tokens.length, engine.store(tokens, kv, slots));
            HostKvMemory target = SeededKv.paged(arena, SMALL, 12, 4);
            int[] targetSlots = SeededKv.shuffledSlots(seed, tokens.length, target.numSlots());
            assertEquals(tokens.length, engine.retrieve(tokens, target, targetSlots));
            SeededKv.assertSameKv(kv, slots, target, targetSlots, 0, tokens.length);
        }
    }

    private static void awaitDiskErrors(TieredCacheEngine engine) throws InterruptedException {
        for (int i = 0; i < 500 && disk(engine).errors() == 0; i++) {
            Thread.sleep(10);
        }
    }

    @Test
    void aFullDiskLeavesTheCpuTierServing() throws Exception {
        FaultyDiskIo io = new FaultyDiskIo().diskFullAfter(CHUNK_BYTES + CHUNK_BYTES / 2);
        StorageTier diskTier = DiskTiers.open(dir, 64 * CHUNK_BYTES, SMALL.fingerprint(), true, System::nanoTime, io);
        try (Arena arena = Arena.ofShared();
             TieredCacheEngine engine = new TieredCacheEngine(Engines.config().build(), SMALL, System::nanoTime,
                     UnaryOperator.identity(), List.of(diskTier))) {
            storeAndRetrieveFromCpu(engine, arena);
            awaitDiskErrors(engine);
            assertTrue(disk(engine).errors() > 0, "the full disk's failed writes are counted");
            assertFalse(disk(engine).healthy());
            assertTrue(disk(engine).chunks() <= 1, "only what fitted was written");
            assertTrue(engine.stats().tiers().get(0).healthy(), "the cpu tier is unaffected");
        }
    }

    @Test
    void aRealReadOnlyDirectoryLeavesTheCpuTierServingAndIsRefusedAtStart() throws Exception {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES).build();
        Path namespaceDir = dir.resolve(config.identity(SMALL).directoryName());
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(config)) {
            // root ignores permission bits; the immutable attribute stops even root (ext4, xfs, btrfs)
            Assumptions.assumeTrue(immutable(namespaceDir, true), "chattr +i is not available on this file system");
            try {
                storeAndRetrieveFromCpu(engine, arena);
                awaitDiskErrors(engine);
                assertTrue(disk(engine).errors() > 0, "the read-only disk's failed writes are counted");
                assertEquals(0, disk(engine).chunks());
            } finally {
                immutable(namespaceDir, false);
            }
        }
        immutable(namespaceDir, true);
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Engines.open(config));
            assertTrue(e.getMessage().contains(namespaceDir.toString()) && e.getMessage().contains("not writable"),
                    e.getMessage());
        } finally {
            immutable(namespaceDir, false);
        }
    }

    /** Sets or clears the immutable attribute; false when chattr is missing or refuses. */
    private static boolean immutable(Path path, boolean on) throws IOException, InterruptedException {
        try {
            Process p = new ProcessBuilder("chattr", on ? "+i" : "-i", path.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
