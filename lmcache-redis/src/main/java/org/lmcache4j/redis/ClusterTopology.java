package org.lmcache4j.redis;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPool;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.exceptions.JedisClusterOperationException;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * What the remote tier's own per-node calls ({@link RemoteShardCalls}) know of a cluster: the slot map,
 * and which masters are dead for now.
 *
 * <p>The slot map is read once ({@code CLUSTER SLOTS}, one round trip) and read again in the background,
 * at most once per interval, whenever a node fails, redirects a call ({@code MOVED}, {@code ASK}) or
 * serves no slot: after a failover (a replica promoted, slots moved) the calls go to the new master
 * within an interval, instead of to the old one for good. The cluster client's own map is refreshed
 * with it, so the client has pools for new nodes and its own commands follow too.
 *
 * <p>A master whose call failed (unreachable, timed out) is skipped until a probe ({@code PING}, in the
 * background, at most one per node per interval, started by a lookup that skips it) finds it back: its
 * shards' chunks are misses meanwhile, at no cost to the lookup. A blackholed node (one that answers
 * nothing, so each wait lasts the whole timeout) then costs one timeout, not one per lookup.
 */
final class ClusterTopology {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterTopology.class);

    /** Nodes asked for the slot map in one reading, each bounded by the timeout. */
    private static final int MAP_TRIES = 3;

    private final long intervalNanos;
    private final Object loading = new Object();
    private volatile ClusterSlotMap map; // null until first read
    private final Map<HostAndPort, Long> probeDueNanos = new ConcurrentHashMap<>(); // the masters skipped for now
    private final Set<HostAndPort> probing = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean refreshing = new AtomicBoolean();
    private volatile long lastRefreshNanos;

    /** @param intervalMillis how often a dead master is probed and the slot map read again, at most */
    ClusterTopology(long intervalMillis) {
        this.intervalNanos = intervalMillis * 1_000_000L;
        this.lastRefreshNanos = System.nanoTime() - intervalNanos;
    }

    /**
     * The master of {@code slot}; the first call reads the map (one round trip, by the caller).
     *
     * @throws JedisClusterOperationException when no node serves the slot, or none reported the map
     */
    HostAndPort masterOf(RedisClusterClient cluster, int slot) {
        ClusterSlotMap m = map;
        if (m == null) {
            synchronized (loading) {
                m = map;
                if (m == null) {
                    lastRefreshNanos = System.nanoTime();
                    m = read(cluster);
                    map = m;
                }
            }
        }
        HostAndPort node = m.masterOf(slot);
        if (node == null) {
            refresh(cluster);
            throw new JedisClusterOperationException("slot " + slot + ": no master serves it (per the last slot map)");
        }
        return node;
    }

    /**
     * True when calls to {@code node} are skipped for now: a call to it failed and no probe has found it
     * back yet. When a probe is due, starts it in the background.
     */
    boolean skips(RedisClusterClient cluster, HostAndPort node) {
        Long due = probeDueNanos.get(node);
        if (due == null) {
            return false;
        }
        if (System.nanoTime() - due >= 0 && probing.add(node)) {
            Thread.ofVirtual().name("lmcache-remote-probe").start(() -> probe(cluster, node));
        }
        return true;
    }

    /** Records that a call to {@code node} failed: it is skipped until probed, and the slot map is read again. */
    void failed(RedisClusterClient cluster, HostAndPort node, RuntimeException why) {
        if (probeDueNanos.putIfAbsent(node, System.nanoTime() + intervalNanos) == null) {
            LOG.warn("remote tier: cluster node {} failed ({}); its shards' chunks are misses until a probe finds it back",
                    node, why.toString());
        }
        refresh(cluster);
    }

    /** Records that {@code node} answered. */
    void answered(HostAndPort node) {
        if (probeDueNanos.remove(node) != null) {
            LOG.info("remote tier: cluster node {} answers again", node);
        }
    }

    /** True when some master of the last slot map is not skipped (false before the map is read). */
    boolean someMasterServing() {
        ClusterSlotMap m = map;
        if (m == null) {
            return false;
        }
        for (HostAndPort n : m.masters()) {
            if (!probeDueNanos.containsKey(n)) {
                return true;
            }
        }
        return false;
    }

    /** Reads the slot map again in the background, unless that was done (or is under way) within the interval. */
    void refresh(RedisClusterClient cluster) {
        long now = System.nanoTime();
        if (now - lastRefreshNanos < intervalNanos || !refreshing.compareAndSet(false, true)) {
            return;
        }
        lastRefreshNanos = now;
        Thread.ofVirtual().name("lmcache-remote-slots").start(() -> {
            try {
                try {
                    cluster.refreshClusterTopology(); // the client's map and pools, for its own commands and for new nodes
                } catch (RuntimeException e) {
                    LOG.debug("remote tier: refreshing the cluster client's slot map failed: {}", e.toString());
                }
                map = read(cluster);
            } catch (RuntimeException e) {
                LOG.debug("remote tier: reading the slot map failed (the last one stays): {}", e.toString());
            } finally {
                refreshing.set(false);
            }
        });
    }

    private void probe(RedisClusterClient cluster, HostAndPort node) {
        try {
            try (Connection c = pool(cluster, node).getResource()) {
                if (!c.ping()) {
                    throw new JedisConnectionException(node + ": no PONG");
                }
            }
            answered(node);
            refresh(cluster); // it may be back as a replica: learn who serves its slots now
        } catch (RuntimeException e) {
            probeDueNanos.computeIfPresent(node, (n, due) -> System.nanoTime() + intervalNanos);
            refresh(cluster);
        } finally {
            probing.remove(node);
        }
    }

    /**
     * The pool of the cluster client for {@code node}; a node the client does not know yet (promoted since
     * it last read the cluster) makes it read the cluster first.
     *
     * @throws JedisConnectionException when the client knows no such node
     */
    static ConnectionPool pool(RedisClusterClient cluster, HostAndPort node) {
        ConnectionPool pool = cluster.getClusterNodes().get(node.toString());
        if (pool == null) {
            cluster.refreshClusterTopology();
            pool = cluster.getClusterNodes().get(node.toString());
        }
        if (pool == null) {
            throw new JedisConnectionException("cluster node " + node + ": unknown to the client");
        }
        return pool;
    }

    /** The slot map as the first of a few nodes (live ones first) reports it. */
    private ClusterSlotMap read(RedisClusterClient cluster) {
        List<Map.Entry<String, ConnectionPool>> nodes = new ArrayList<>(cluster.getClusterNodes().entrySet());
        nodes.sort(Comparator.comparing(e -> probeDueNanos.containsKey(HostAndPort.from(e.getKey()))));
        RuntimeException last = null;
        for (Map.Entry<String, ConnectionPool> e : nodes.subList(0, Math.min(MAP_TRIES, nodes.size()))) {
            try (Connection c = e.getValue().getResource()) {
                c.sendCommand(Protocol.Command.CLUSTER, "SLOTS");
                return ClusterSlotMap.parse(c.getObjectMultiBulkReply(), HostAndPort.from(e.getKey()).getHost());
            } catch (RuntimeException ex) {
                last = ex;
            }
        }
        throw new JedisClusterOperationException("no cluster node reported the slot map", last);
    }
}
