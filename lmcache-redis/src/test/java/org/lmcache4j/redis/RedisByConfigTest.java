package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.testing.ZeroRunsTestCodec;
import org.lmcache4j.redis.RemoteEngines.Prompt;

/**
 * With this module on the path, {@code redis://} works by configuration alone: {@code LMCACHE_TIERS} (or
 * the {@code LMCACHE_REMOTE_URL} shorthand) names the server, {@link KvConnectors} opens the connector, and
 * KV stored by one connector comes back byte for byte from Redis in another one.
 */
class RedisByConfigTest {

    @RegisterExtension
    static final LocalRedis redis = new LocalRedis();

    @Test
    void thisModuleProvidesTheRedisSchemes() {
        for (String scheme : List.of("redis", "rediss", "valkey", "valkeys", "redis-cluster", "valkeys-cluster")) {
            assertEquals(RedisTierProvider.class, StorageTiers.providers().get(scheme).getClass(), scheme);
        }
    }

    @Test
    void aRedisUrlInLmcacheTiersSharesKvBetweenConnectorsWithNoCode() {
        check(Map.of("LMCACHE_TIERS", redis.url()));
    }

    @Test
    void theRemoteUrlShorthandDoesTheSame() {
        check(Map.of("LMCACHE_REMOTE_URL", redis.url(), "LMCACHE_LOCAL_DISK", "off"));
    }

    @Test
    void theRemoteCodecSettingStoresChunksEncodedAndAnotherConnectorReadsThem() {
        Map<String, String> env = Map.of("LMCACHE_REMOTE_URL", redis.url(), "LMCACHE_LOCAL_DISK", "off",
                "LMCACHE_REMOTE_CODEC", ZeroRunsTestCodec.NAME, "LMCACHE_MODEL_ID", "by-config-codec",
                "LMCACHE_CHUNK_SIZE", Integer.toString(RemoteEngines.CHUNK), "LMCACHE_MAX_LOCAL_CPU_SIZE", "0.01");
        LmCacheConfig config = LmCacheConfig.builder().fromEnvironment(env).build();
        int chunks = 8;
        long rawBytes = chunks * Engines.SMALL.chunkBytes(RemoteEngines.CHUNK);
        try (Arena arena = Arena.ofShared()) {
            Prompt p = Prompt.of(arena, 12, chunks * RemoteEngines.CHUNK);
            sparsify(p.kv()); // so that the test codec shrinks every chunk
            try (KvConnector writer = KvConnectors.open(config, Engines.SMALL)) {
                assertEquals(p.tokens().length, writer.store(p.tokens(), p.kv(), p.slots()));
            }
            try (KvConnector reader = KvConnectors.open(config, Engines.SMALL)) {
                assertEquals(p.tokens().length, p.retrieveAndCheck(arena, reader), "byte for byte, from Redis");
                TierStats remote = reader.stats().tiers().stream().filter(t -> t.name().equals("remote")).findFirst().orElseThrow();
                assertEquals(chunks, remote.chunks());
                assertTrue(remote.usedBytes() < rawBytes / 4, "stored " + remote.usedBytes() + " of " + rawBytes + " bytes");
            }
        }
    }

    /** Zeros every byte of {@code kv} but one in 97. */
    private static void sparsify(HostKvMemory kv) {
        for (int layer = 0; layer < kv.layout().numLayers(); layer++) {
            for (int plane = 0; plane < kv.layout().planes(); plane++) {
                MemorySegment s = kv.plane(layer, plane);
                for (long i = 0; i < s.byteSize(); i++) {
                    if (i % 97 != 0) {
                        s.set(ValueLayout.JAVA_BYTE, i, (byte) 0);
                    }
                }
            }
        }
    }

    private static void check(Map<String, String> tierSettings) {
        Map<String, String> env = new java.util.HashMap<>(tierSettings);
        env.put("LMCACHE_MODEL_ID", "by-config-" + tierSettings.keySet().iterator().next());
        env.put("LMCACHE_CHUNK_SIZE", Integer.toString(RemoteEngines.CHUNK));
        env.put("LMCACHE_MAX_LOCAL_CPU_SIZE", "0.01");
        LmCacheConfig config = LmCacheConfig.builder().fromEnvironment(env).build();
        try (Arena arena = Arena.ofShared()) {
            Prompt p = Prompt.of(arena, 11, 8 * RemoteEngines.CHUNK);
            try (KvConnector writer = KvConnectors.open(config, Engines.SMALL)) {
                assertEquals(List.of("cpu", "remote"), writer.stats().tiers().stream().map(TierStats::name).toList());
                assertEquals(p.tokens().length, writer.store(p.tokens(), p.kv(), p.slots()));
            } // close drains the write-behind queue into Redis
            try (KvConnector reader = KvConnectors.open(config, Engines.SMALL)) {
                assertEquals(p.tokens().length, p.retrieveAndCheck(arena, reader), "byte for byte, from Redis");
                assertEquals((long) p.tokens().length,
                        reader.stats().retrievedTokensByTier().getOrDefault("remote", 0L), "every token came from the remote tier");
            }
        }
    }
}
