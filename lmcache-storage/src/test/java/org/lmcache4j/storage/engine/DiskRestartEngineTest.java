package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.SeededKv;
import org.lmcache4j.testing.ZeroRunsTestCodec;

/** With localDisk set, a connector opened after another closed gets disk hits, byte for byte. */
class DiskRestartEngineTest {

    @TempDir
    Path dir;

    @Test
    void aReopenedConnectorHitsFromDisk() {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES).build();
        int n = 5 * CHUNK;
        int[] tokens = SeededKv.tokens(1, n);
        int[] slots = SeededKv.identitySlots(n);
        try (Arena arena = Arena.ofShared()) {
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
            SeededKv.fill(kv, tokens, slots);
            try (TieredCacheEngine first = Engines.open(config)) {
                assertEquals(n, first.store(tokens, kv, slots));
            } // close drains the write-behind queue to disk

            try (TieredCacheEngine second = Engines.open(config)) {
                assertEquals(n, second.lookup(tokens));
                HostKvMemory target = SeededKv.paged(arena, SMALL, 20, 4);
                int[] targetSlots = SeededKv.shuffledSlots(3, n, target.numSlots());
                assertEquals(n, second.retrieve(tokens, target, targetSlots));
                SeededKv.assertSameKv(kv, slots, target, targetSlots, 0, n);
                assertEquals(5, second.stats().promotedChunks(), "disk hits were promoted into the cpu tier");
            }
        }
    }

    @Test
    void aReopenedConnectorHitsChunksItsDiskTierEncodedByteForByte() {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES)
                .diskCodec(ZeroRunsTestCodec.NAME).build();
        int n = 5 * CHUNK;
        int[] tokens = SeededKv.tokens(2, n);
        int[] slots = SeededKv.identitySlots(n);
        try (Arena arena = Arena.ofShared()) {
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
            SeededKv.fill(kv, tokens, slots);
            for (int layer = 0; layer < SMALL.numLayers(); layer++) {
                for (int plane = 0; plane < SMALL.planes(); plane++) {
                    java.lang.foreign.MemorySegment rows = kv.plane(layer, plane);
                    for (long i = 0; i < rows.byteSize(); i++) {
                        if (i % 61 != 0) {
                            rows.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) 0); // mostly zeros: the test codec shrinks it
                        }
                    }
                }
            }
            try (TieredCacheEngine first = Engines.open(config)) {
                assertEquals(n, first.store(tokens, kv, slots));
            } // close drains the write-behind queue to disk

            try (TieredCacheEngine second = Engines.open(config)) {
                long diskBytes = second.stats().tiers().get(1).usedBytes();
                long rawFiles = 5 * org.lmcache4j.storage.tier.DiskChunkFormat.fileBytes(CHUNK_BYTES);
                assertTrue(diskBytes < rawFiles - 5 * CHUNK_BYTES / 2, "5 chunks stored in " + diskBytes + " bytes, raw in " + rawFiles);
                assertEquals(n, second.lookup(tokens));
                HostKvMemory target = SeededKv.paged(arena, SMALL, 20, 4);
                int[] targetSlots = SeededKv.shuffledSlots(3, n, target.numSlots());
                assertEquals(n, second.retrieve(tokens, target, targetSlots));
                SeededKv.assertSameKv(kv, slots, target, targetSlots, 0, n);
                assertEquals(0, second.stats().tiers().get(1).lossyChunksServed());
            }
        }
    }

    @Test
    void aClearedConnectorWritesItsNextChunksOverTheClearedChunksFiles() throws Exception {
        // a budget whose eighth (what spares may take) holds the five chunk files, headers included
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(1 << 20).build();
        Path tierDir = dir.resolve(config.identity(SMALL).directoryName());
        int n = 5 * CHUNK;
        int[] slots = SeededKv.identitySlots(n);
        try (Arena arena = Arena.ofShared()) {
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
            int[] first = SeededKv.tokens(3, n);
            SeededKv.fill(kv, first, slots);
            try (TieredCacheEngine engine = Engines.open(config)) {
                assertEquals(n, engine.store(first, kv, slots));
            }
            java.util.Set<Object> cleared = inodes(tierDir, ".kv");
            assertEquals(5, cleared.size(), "chunk files of the first connector");
            int[] second = SeededKv.tokens(4, n);
            SeededKv.fill(kv, second, slots);
            try (TieredCacheEngine engine = Engines.open(config)) {
                engine.clear(); // as the bench does before each block of misses
                assertEquals(cleared, inodes(tierDir, ".spare"), "the cleared chunks' files wait as spares");
                assertEquals(0, engine.lookup(first));
                assertEquals(n, engine.store(second, kv, slots));
            } // close drains the write-behind queue, then deletes the spares left
            assertEquals(cleared, inodes(tierDir, ".kv"), "the second connector's chunks were written over the first's files");
            assertEquals(java.util.Set.of(), inodes(tierDir, ".spare"), "no spare file after the close");
            try (TieredCacheEngine engine = Engines.open(config)) {
                HostKvMemory target = SeededKv.paged(arena, SMALL, 20, 4);
                int[] targetSlots = SeededKv.shuffledSlots(5, n, target.numSlots());
                assertEquals(n, engine.retrieve(second, target, targetSlots));
                SeededKv.assertSameKv(kv, slots, target, targetSlots, 0, n);
            }
        }
    }

    private static java.util.Set<Object> inodes(Path root, String suffix) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(root)) {
            java.util.Set<Object> out = new java.util.HashSet<>();
            for (Path p : files.filter(p -> p.toString().endsWith(suffix)).toList()) {
                out.add(java.nio.file.Files.getAttribute(p, "unix:ino"));
            }
            return out;
        }
    }

    @Test
    void eachNamespaceHasItsOwnDirectoryAndASecondReplicaRunsWithoutDisk() {
        LmCacheConfig a = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES).build();
        LmCacheConfig b = a.toBuilder().modelId("other-model").build();
        try (TieredCacheEngine first = Engines.open(a);
             TieredCacheEngine otherModel = Engines.open(b);
             TieredCacheEngine replica = Engines.open(a)) {
            assertEquals(2, first.stats().tiers().size());
            assertEquals(2, otherModel.stats().tiers().size(), "another namespace uses another directory");
            assertEquals(1, replica.stats().tiers().size(), "the same namespace's directory is locked: cpu only");
            assertTrue(java.nio.file.Files.isDirectory(dir.resolve(a.identity(SMALL).directoryName())));
            assertTrue(java.nio.file.Files.isDirectory(dir.resolve(b.identity(SMALL).directoryName())));
        }
    }

    @Test
    void anUnusableDiskPathIsAClearErrorAtStart() throws Exception {
        Path file = java.nio.file.Files.writeString(dir.resolve("not-a-dir"), "x");
        LmCacheConfig config = Engines.config().localDisk(file).maxLocalDiskBytes(64 * CHUNK_BYTES).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Engines.open(config));
        assertTrue(e.getMessage().contains("not-a-dir"), e.getMessage());
    }

    @Test
    void aDiskWithoutABudgetIsRejected() {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(0).build();
        assertThrows(IllegalArgumentException.class, () -> Engines.open(config));
    }

    @Test
    void aFailedOpenReleasesTheDiskTierItOpened() {
        // regression: the disk tier (and its directory lock) stayed open after the connector refused the config
        LmCacheConfig bad = Engines.config().maxLocalCpuBytes(CHUNK_BYTES - 1).localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES).build();
        assertThrows(IllegalArgumentException.class, () -> Engines.open(bad));
        try (TieredCacheEngine good = Engines.open(bad.toBuilder().maxLocalCpuBytes(64 * CHUNK_BYTES).build())) {
            assertEquals(2, good.stats().tiers().size(), "the directory is free again: cpu and disk");
        }
    }

    @Test
    void aFailedOpenLeavesNoCopyThreadRunning() throws Exception {
        // regression: each refused open left its copy threads (lmcache-copy-*) running
        LmCacheConfig bad = Engines.config().maxLocalCpuBytes(CHUNK_BYTES - 1).copyThreads(3).build();
        long before = copyThreads();
        for (int i = 0; i < 5; i++) {
            assertThrows(IllegalArgumentException.class, () -> Engines.open(bad));
        }
        long after = copyThreads();
        for (int wait = 0; wait < 100 && after > before; wait++) { // a closed pool's threads end shortly after close
            Thread.sleep(20);
            after = copyThreads();
        }
        assertTrue(after <= before, after + " copy threads alive after five failed opens, " + before + " before");
    }

    private static long copyThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("lmcache-copy-") && t.isAlive()).count();
    }
}
