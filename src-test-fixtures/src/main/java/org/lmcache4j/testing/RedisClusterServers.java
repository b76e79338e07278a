package org.lmcache4j.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A throw-away Redis Cluster for tests: {@code n} {@link RedisServer}s in cluster mode on loopback, their
 * 16384 slots spread by {@code redis-cli --cluster create} (no replicas, or one per master), ready when
 * every node reports {@code cluster_state:ok}. Closing stops every node.
 */
public final class RedisClusterServers implements AutoCloseable {

    private static final long READY_TIMEOUT_MILLIS = 30_000;

    private final List<RedisServer> nodes;

    private RedisClusterServers(List<RedisServer> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    /** Starts {@code n} (at least 3) nodes and forms the cluster. */
    public static RedisClusterServers start(int n) {
        if (n < 3) {
            throw new IllegalArgumentException("n: " + n + " (expected: >= 3, the fewest masters redis-cli accepts)");
        }
        return start(n, new String[0]);
    }

    /**
     * Starts {@code n} nodes with further {@code redis-server} options (e.g. {@code "--cluster-require-full-coverage",
     * "no"}) and forms the cluster: with {@code redis-cli --cluster create} from 3 nodes, and a single node
     * by giving it every slot ({@code CLUSTER ADDSLOTSRANGE 0 16383}).
     */
    public static RedisClusterServers start(int n, String... extraArgs) {
        if (n != 1 && n < 3) {
            throw new IllegalArgumentException("n: " + n + " (expected: 1, or >= 3, the fewest masters redis-cli accepts)");
        }
        return form(n, 0, extraArgs);
    }

    private static RedisClusterServers form(int n, int replicas, String... extraArgs) {
        List<RedisServer> nodes = new ArrayList<>();
        boolean ok = false;
        try {
            for (int i = 0; i < n; i++) {
                List<String> args = new ArrayList<>(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "5000"));
                args.addAll(List.of(extraArgs));
                nodes.add(RedisServer.start(args.toArray(String[]::new)));
            }
            if (n == 1) {
                nodes.getFirst().call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
                RedisClusterServers cluster = new RedisClusterServers(nodes);
                cluster.awaitReady();
                ok = true;
                return cluster;
            }
            List<String> cmd = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            nodes.forEach(s -> cmd.add("127.0.0.1:" + s.port()));
            cmd.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(READY_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("redis-cli --cluster create failed: " + out);
            }
            RedisClusterServers cluster = new RedisClusterServers(nodes);
            cluster.awaitReady();
            ok = true;
            return cluster;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run redis-cli (apt-get install redis-server): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while forming a cluster", e);
        } finally {
            if (!ok) {
                nodes.forEach(RedisServer::close);
            }
        }
    }

    /**
     * Starts {@code masters} (at least 3) masters with one replica each ({@code redis-cli --cluster create
     * --cluster-replicas 1}), ready when every node reports {@code cluster_state:ok} and every replica's
     * link to its master is up. {@link #nodes()} lists all of them; {@link #masters()} and
     * {@link #replicaOf} tell them apart.
     */
    public static RedisClusterServers startWithReplicas(int masters, String... extraArgs) {
        if (masters < 3) {
            throw new IllegalArgumentException("masters: " + masters + " (expected: >= 3, the fewest redis-cli accepts)");
        }
        return form(2 * masters, 1, extraArgs);
    }

    /** The nodes that are masters now (per {@code ROLE}). */
    public List<RedisServer> masters() {
        return nodes.stream().filter(s -> s.pid() > 0 && "master".equals(((List<?>) s.call("ROLE")).getFirst())).toList();
    }

    /** The node replicating {@code master} now. */
    public RedisServer replicaOf(RedisServer master) {
        for (RedisServer s : nodes) {
            if (s.pid() > 0 && s != master) {
                List<?> role = (List<?>) s.call("ROLE");
                if ("slave".equals(role.getFirst()) && Long.valueOf(master.port()).equals(role.get(2))) {
                    return s;
                }
            }
        }
        throw new IllegalStateException("no replica of the master on port " + master.port());
    }

    public List<RedisServer> nodes() {
        return nodes;
    }

    /** {@code redis-cluster://127.0.0.1:p1,127.0.0.1:p2,...}. */
    public String url() {
        return "redis-cluster://" + nodes.stream().map(s -> "127.0.0.1:" + s.port()).collect(Collectors.joining(","));
    }

    @Override
    public void close() {
        nodes.forEach(RedisServer::close);
    }

    private void awaitReady() throws InterruptedException {
        long deadline = System.currentTimeMillis() + READY_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            if (nodes.stream().allMatch(s -> ((String) s.call("CLUSTER", "INFO")).contains("cluster_state:ok")
                    && !((String) s.call("INFO", "replication")).contains("master_link_status:down"))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("cluster not ready within " + READY_TIMEOUT_MILLIS + " ms");
    }
}
