package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.storage.cpu.CpuTierProvider;
import org.lmcache4j.storage.disk.DiskTierProvider;

/**
 * A connector's slower tiers come from URLs through the tier providers: a {@code file:} URL in
 * {@code tiers} (or {@code LMCACHE_TIERS}) opens the disk tier with no other setting, and a scheme no provider
 * on the path opens fails at open, naming the schemes there are.
 */
class TierProvidersTest {

    @TempDir
    Path dir;

    @Test
    void thisModuleProvidesTheCpuAndFileSchemes() {
        assertTrue(StorageTiers.providers().get("file") instanceof DiskTierProvider);
        assertTrue(StorageTiers.providers().get("cpu") instanceof CpuTierProvider);
    }

    @Test
    void aFileUrlInTheTiersListOpensTheDiskTierAndItKeepsChunksAcrossConnectors() {
        LmCacheConfig config = LmCacheConfig.builder().fromEnvironment(Map.of("LMCACHE_TIERS", dir.toUri().toString()))
                .modelId("m").chunkTokens(Engines.CHUNK).maxLocalCpuBytes(64 * Engines.CHUNK_BYTES)
                .maxLocalDiskBytes(64 * Engines.CHUNK_BYTES * 2).build();
        int[] tokens;
        try (KvConnector c = KvConnectors.open(config, Engines.SMALL); Arena arena = Arena.ofConfined()) {
            assertEquals(List.of("cpu", "disk"), c.stats().tiers().stream().map(TierStats::name).toList());
            tokens = Engines.storePrompt((TieredCacheEngine) c, arena, 3, 4);
        }
        assertTrue(Files.isDirectory(dir.resolve(config.identity(Engines.SMALL).directoryName())));
        try (KvConnector c = KvConnectors.open(config, Engines.SMALL)) {
            assertEquals(tokens.length, c.lookup(tokens), "the chunks came back from the disk tier");
        }
    }

    @Test
    void twoTiersOfOneKindGetNamesOfTheirOwnInStatsLookupsAndMetrics() {
        LmCacheConfig config = LmCacheConfig.builder().modelId("m").chunkTokens(Engines.CHUNK).maxLocalCpuBytes(64 * Engines.CHUNK_BYTES)
                .maxLocalDiskBytes(64 * Engines.CHUNK_BYTES * 2)
                .tiers(List.of(dir.resolve("nvme0").toUri().toString(), dir.resolve("nvme1").toUri().toString())).build();
        try (KvConnector c = KvConnectors.open(config, Engines.SMALL); Arena arena = Arena.ofConfined()) {
            // regression: both were "disk", so their stats, lookups, misses and metric series merged
            assertEquals(List.of("cpu", "disk", "disk-2"), c.stats().tiers().stream().map(TierStats::name).toList());
            int[] tokens = Engines.storePrompt((TieredCacheEngine) c, arena, 3, 4);
            assertEquals(java.util.Set.of("cpu", "disk", "disk-2"), c.lookupByTier(tokens).keySet());
            assertEquals(java.util.Set.of("cpu", "disk", "disk-2"), c.stats().retrievedTokensByTier().keySet());
        }
    }

    @Test
    void anUnknownSchemeFailsAtOpenNamingTheSchemesThereAre() {
        LmCacheConfig config = Engines.config().tiers("s3://bucket/kv").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvConnectors.open(config, Engines.SMALL));
        assertTrue(e.getMessage().startsWith("tier URL 's3://bucket/kv': no tier provider for scheme 's3' on the class or"
                + " module path (expected: one of [cpu, file"), e.getMessage());
        assertTrue(e.getMessage().contains("add the module that provides 's3'"), e.getMessage());
    }

    @Test
    void aPoolUrlWithoutItsModuleNamesTheModuleToAdd() {
        LmCacheConfig config = Engines.config().tiers("pool:///lmcache-test-pool").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvConnectors.open(config, Engines.SMALL));
        assertTrue(e.getMessage().contains("no tier provider for scheme 'pool'") && e.getMessage().contains("add the lmcache-pool module"),
                e.getMessage());
    }

    @Test
    void theShorthandsAndAListCannotBeSetTogether() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Engines.config().localDisk(dir).tiers(dir.toUri().toString()).build());
        assertTrue(e.getMessage().contains("expected: either the tiers list or its shorthands"), e.getMessage());
    }
}
