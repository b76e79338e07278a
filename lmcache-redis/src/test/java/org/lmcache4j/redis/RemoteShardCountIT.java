package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.RedisClusterServers;

/**
 * The shard count is the namespace's, recorded by the first engine that claims it: a later engine whose
 * count is only the default (which depends on its capacity: 2 shards for 2 GiB, 16 for 64 GiB) adopts
 * the recorded one, so engines of different capacities share the namespace; one configured with another
 * count ({@code indexShards}) is refused, with both counts named. On a one-node cluster (every slot on
 * one master), where the default is the cluster's.
 */
class RemoteShardCountIT {

    private RedisClusterServers cluster;

    @BeforeEach
    void start() {
        cluster = RedisClusterServers.start(1, new String[0]);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void enginesOfDifferentCapacitiesShareANamespaceWithItsRecordedShardCount() {
        LmCacheConfig config = RemoteEngines.config();
        assertEquals(2, RemoteUrl.parse(cluster.url() + "?capacity=2g").indexShards());
        assertEquals(16, RemoteUrl.parse(cluster.url() + "?capacity=64g").indexShards());
        try (Arena arena = Arena.ofShared()) {
            RemoteEngines.Prompt first = RemoteEngines.Prompt.of(arena, 1, 4 * RemoteEngines.CHUNK);
            RemoteEngines.Prompt second = RemoteEngines.Prompt.of(arena, 2, 4 * RemoteEngines.CHUNK);
            try (KvConnector small = RemoteEngines.open(config, cluster.url() + "?capacity=2g")) {
                assertEquals(first.tokens().length, small.store(first.tokens(), first.kv(), first.slots()));
            }
            try (KvConnector large = RemoteEngines.open(config, cluster.url() + "?capacity=64g")) {
                assertEquals(first.tokens().length, first.retrieveAndCheck(arena, large), "the small engine's chunks, byte for byte");
                assertEquals(second.tokens().length, large.store(second.tokens(), second.kv(), second.slots()));
            }
            try (KvConnector small = RemoteEngines.open(config, cluster.url() + "?capacity=2g")) {
                assertEquals(second.tokens().length, second.retrieveAndCheck(arena, small), "the large engine's chunks, byte for byte");
            }
        }
    }

    @Test
    void anExplicitlyConfiguredOtherShardCountIsRefusedNamingBothCounts() {
        LmCacheConfig config = RemoteEngines.config();
        try (RemoteTier first = RemoteTier.open(cluster.url() + "?capacity=2g", config.identity(Engines.SMALL))) {
            first.containsAll(List.of()); // claims the namespace with its default: 2 shards
            assertTrue(first.identityMismatch().isEmpty());
        }
        try (RemoteTier other = RemoteTier.open(cluster.url() + "?capacity=2g&indexShards=8", config.identity(Engines.SMALL))) {
            other.containsAll(List.of());
            String why = other.identityMismatch().orElseThrow();
            assertTrue(why.contains("split into 2 index shards") && why.contains("this connector: 8"), why);
        }
    }
}
