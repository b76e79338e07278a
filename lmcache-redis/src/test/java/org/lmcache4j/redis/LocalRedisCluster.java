package org.lmcache4j.redis;

import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.lmcache4j.testing.RedisClusterServers;

/**
 * A fresh Redis Cluster on 127.0.0.1 for every test of the cluster ITs, which kill, blackhole and migrate its
 * nodes: registered in an instance field ({@code @RegisterExtension final LocalRedisCluster cluster =
 * LocalRedisCluster.threeMasters()}), started before each test and stopped after it. The cluster keeps serving
 * the slots it still has when a node is lost ({@code --cluster-require-full-coverage no}), as the ITs need.
 */
final class LocalRedisCluster implements BeforeEachCallback, AfterEachCallback {

    private static final String[] PARTIAL_COVERAGE = {"--cluster-require-full-coverage", "no"};

    private final Supplier<RedisClusterServers> starter;
    private RedisClusterServers servers;

    private LocalRedisCluster(Supplier<RedisClusterServers> starter) {
        this.starter = starter;
    }

    /** Three masters, no replicas. */
    static LocalRedisCluster threeMasters() {
        return new LocalRedisCluster(() -> RedisClusterServers.start(3, PARTIAL_COVERAGE));
    }

    /** Three masters, each with a replica that takes over when it fails. */
    static LocalRedisCluster threeMastersWithReplicas() {
        return new LocalRedisCluster(() -> RedisClusterServers.startWithReplicas(3, PARTIAL_COVERAGE));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        servers = starter.get();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (servers != null) {
            servers.close();
            servers = null;
        }
    }

    /** The nodes of this test's cluster. */
    RedisClusterServers servers() {
        return servers;
    }

    /** The cluster's URL, {@code redis-cluster://<seeds>}. */
    String url() {
        return servers.url();
    }
}
