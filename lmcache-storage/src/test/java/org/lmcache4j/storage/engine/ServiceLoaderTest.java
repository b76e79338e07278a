package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.SeededKv;

/** Engines obtain the connector from configuration alone, as the README shows. */
class ServiceLoaderTest {

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    @Test
    void theTieredConnectorIsFoundByNameAndWorks() {
        LmCacheConfig config = LmCacheConfig.builder().fromEnvironment(java.util.Map.of("LMCACHE_MODEL_ID", "m",
                "LMCACHE_CHUNK_SIZE", "16", "LMCACHE_MAX_LOCAL_CPU_SIZE", "0.01",
                "LMCACHE_LOCAL_DISK", "file://" + dir, "LMCACHE_MAX_LOCAL_DISK_SIZE", "0.01")).build();
        try (Arena arena = Arena.ofConfined(); KvConnector connector = KvConnectors.open(config, Engines.SMALL)) {
            assertInstanceOf(TieredCacheEngine.class, connector);
            assertEquals(16, connector.chunkTokens());
            assertEquals(java.util.List.of("cpu", "disk"),
                    connector.stats().tiers().stream().map(org.lmcache4j.api.TierStats::name).toList());
            int[] tokens = SeededKv.tokens(1, 40);
            HostKvMemory kv = SeededKv.contiguous(arena, Engines.SMALL, 40);
            int[] slots = SeededKv.identitySlots(40);
            SeededKv.fill(kv, tokens, slots);
            connector.store(tokens, kv, slots);
            assertEquals(32, connector.lookup(tokens));
            assertEquals(32, connector.prefetch(tokens).join());
        }
    }
}
