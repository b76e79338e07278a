package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.MissReason;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.storage.disk.DiskTiers;

/**
 * A default setup must never serve one model's KV to another: a disk or remote tier needs an explicit
 * model id, every disk directory records its full identity, and a connector whose identity differs from
 * the record refuses the directory (misses, counted as identity mismatches) instead of serving it.
 */
class ModelIdentityTest {

    @TempDir
    Path dir;

    private LmCacheConfig.Builder withDisk(String modelId) {
        return Engines.config().modelId(modelId).localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES);
    }

    @Test
    void aDiskTierWithoutAModelIdFailsToOpenAndSaysWhy() throws IOException {
        // On the old code the default model id "default-model" opened the disk tier: two models, one namespace.
        LmCacheConfig config = LmCacheConfig.builder().chunkTokens(Engines.CHUNK).localDisk(dir).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvConnectors.open(config, SMALL));
        assertTrue(e.getMessage().startsWith("modelId: not set (expected: the model's identity, set with "
                + "LmCacheConfig.builder().modelId(...) or LMCACHE_MODEL_ID, because this connector has a disk tier at " + dir),
                e.getMessage());
        assertTrue(e.getMessage().contains("a base model and its fine-tune"), e.getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing was created");
        }
    }

    @Test
    void aRemoteTierWithoutAModelIdFailsToOpenAndSaysWhy() {
        LmCacheConfig config = LmCacheConfig.builder().noLocalDisk().remoteUrl("redis://127.0.0.1:1").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvConnectors.open(config, SMALL));
        assertTrue(e.getMessage().contains("because this connector has a remote tier"), e.getMessage());
        assertTrue(e.getMessage().contains("LMCACHE_MODEL_ID"), e.getMessage());
    }

    @Test
    void aCpuOnlyConnectorNeedsNoModelId() {
        try (KvConnector c = KvConnectors.open(LmCacheConfig.builder().noLocalDisk().maxLocalCpuBytes(64 * CHUNK_BYTES)
                .chunkTokens(Engines.CHUNK).build(), SMALL)) {
            assertEquals(List.of("cpu"), c.stats().tiers().stream().map(TierStats::name).toList());
        }
    }

    @Test
    void twoModelsOfOneLayoutShareNothingOnOneDisk() {
        int[] tokens;
        try (Arena arena = Arena.ofShared(); TieredCacheEngine base = Engines.open(withDisk("base@rev1").build())) {
            tokens = Engines.storePrompt(base, arena, 1, 3);
        }
        try (TieredCacheEngine fineTune = Engines.open(withDisk("base-finetuned@rev1").build())) {
            assertEquals(0, fineTune.lookup(tokens), "the fine-tune never sees the base model's KV");
            assertEquals(0, disk(fineTune.stats()).chunks(), "its own directory, empty");
            assertEquals(1, fineTune.stats().missChunks(MissReason.ABSENT));
        }
    }

    @Test
    void twoChunkSizesOrHashesShareNothingOnOneDisk() {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine a = Engines.open(withDisk("m").build())) {
            Engines.storePrompt(a, arena, 1, 3);
        }
        // On the old code these opened the same directory (its name did not include the chunk size or the hash).
        for (LmCacheConfig other : List.of(withDisk("m").chunkTokens(2 * Engines.CHUNK).build(),
                withDisk("m").hashAlgorithm(org.lmcache4j.api.HashAlgorithm.XXH3_128).build())) {
            try (TieredCacheEngine b = Engines.open(other)) {
                assertEquals(0, disk(b.stats()).chunks(), "another identity, another directory: " + other);
            }
        }
        try (TieredCacheEngine again = Engines.open(withDisk("m").build())) {
            assertEquals(3, disk(again.stats()).chunks(), "the first identity still finds its chunks");
        }
    }

    @Test
    void everyDirectoryRecordsItsIdentity() throws IOException {
        LmCacheConfig config = withDisk("m@rev7").tenantSalt("tenant-a").tensorParallel(1, 2).build();
        try (TieredCacheEngine engine = Engines.open(config)) {
            assertEquals(2, engine.stats().tiers().size());
            Path record = dir.resolve(config.identity(SMALL).directoryName()).resolve(DiskTiers.IDENTITY_FILE);
            String text = Files.readString(record);
            assertEquals(config.identity(SMALL).describe(), text);
            assertTrue(text.contains("model_id=m@rev7\n") && text.contains("chunk_tokens=16\n") && text.contains("tp_rank=1\n")
                    && text.contains("tp_world_size=2\n") && text.contains("hash_algorithm=sha256\n"), text);
            assertFalse(text.contains("tenant-a"), "the salt itself is never written");
        }
    }

    @Test
    void aDirectoryRecordedForAnotherIdentityIsRefusedNotServedNorTouched() throws IOException {
        LmCacheConfig config = withDisk("m").build();
        int[] tokens;
        try (Arena arena = Arena.ofShared(); TieredCacheEngine a = Engines.open(config)) {
            tokens = Engines.storePrompt(a, arena, 1, 3);
        }
        Path namespaceDir = dir.resolve(config.identity(SMALL).directoryName());
        Path record = namespaceDir.resolve(DiskTiers.IDENTITY_FILE);
        Files.writeString(record, Files.readString(record).replace("model_id=m\n", "model_id=someone-else\n"));
        List<Path> before = files(namespaceDir);
        try (Arena arena = Arena.ofShared(); TieredCacheEngine b = Engines.open(config)) {
            assertEquals(0, b.lookup(tokens), "never served");
            CacheStats s = b.stats();
            assertEquals(1, s.missChunks(MissReason.IDENTITY_MISMATCH, "disk"));
            assertFalse(disk(s).healthy(), "the refused tier reports unhealthy");
            String detail = b.explain(tokens).chunks().getFirst().detail();
            assertTrue(detail.contains("model_id: 'someone-else' -> 'm'"), detail);
            int[] fresh = Engines.storePrompt(b, arena, 2, 1);
            assertEquals(Engines.CHUNK, b.lookup(fresh), "the cpu tier still works");
        }
        assertEquals(before, files(namespaceDir), "nothing in the refused directory was changed or deleted");
    }

    @Test
    void chunkFilesWithoutARecordAreRefused() throws IOException {
        LmCacheConfig config = withDisk("m").build();
        int[] tokens;
        try (Arena arena = Arena.ofShared(); TieredCacheEngine a = Engines.open(config)) {
            tokens = Engines.storePrompt(a, arena, 1, 2);
        }
        Files.delete(dir.resolve(config.identity(SMALL).directoryName()).resolve(DiskTiers.IDENTITY_FILE));
        try (TieredCacheEngine b = Engines.open(config)) {
            assertEquals(0, b.lookup(tokens));
            assertEquals(1, b.stats().missChunks(MissReason.IDENTITY_MISMATCH, "disk"));
            assertTrue(b.explain(tokens).chunks().getFirst().detail().contains("no IDENTITY record"));
        }
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        }
    }

    static TierStats disk(CacheStats s) {
        return s.tiers().stream().filter(t -> t.name().equals("disk")).findFirst().orElseThrow();
    }
}
