package org.lmcache4j.redis;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.lmcache4j.testing.RedisClusterServers;
import redis.clients.jedis.UnifiedJedis;

/**
 * {@link RemoteTierCodecTest} on a three-node Redis Cluster: parts travel through the client (no direct data
 * path), chunks of a namespace spread over index shards on several nodes.
 */
class RemoteClusterCodecIT extends RemoteTierCodecTest {

    static RedisClusterServers cluster;
    static UnifiedJedis clusterClient;

    @BeforeAll
    static void startCluster() {
        cluster = RedisClusterServers.start(3);
        clusterClient = RedisLink.open(RemoteUrl.parse(cluster.url()));
    }

    @AfterAll
    static void stopCluster() {
        try {
            clusterClient.close();
        } finally {
            cluster.close();
        }
    }

    @Override
    String serverUrl() {
        return cluster.url();
    }

    @Override
    UnifiedJedis raw() {
        return clusterClient;
    }

    @Override
    boolean directPath() {
        return false;
    }
}
