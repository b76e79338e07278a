package org.lmcache4j.storage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Connection;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisNoScriptException;
import redis.clients.jedis.exceptions.JedisRedirectionException;

/**
 * Runs one index script on each of several shards of a namespace ({@link RemoteKeys}) in one pipelined
 * round trip per node that holds them, the nodes at the same time: a prompt's lookup, the usage of every
 * shard. A node that fails fails only its own shards' calls, so a lost master costs its chunks, not the
 * others'.
 *
 * <p>Implementation notes. On a cluster the node of each shard's slot is learned once (by borrowing a
 * pooled connection for the slot, which does not touch the network when one is idle) and kept until a
 * call to it fails or is redirected; each node's calls go down one connection of that node's pool as
 * one {@link Pipeline}. Jedis' own cluster pipeline does the grouping too, but one node that cannot be
 * reached aborts it for all. A call redirected ({@code MOVED}, {@code ASK}: slots moved) is run again on
 * its own through the cluster client, which follows redirects; a server that lacks the script gets it
 * whole in a second round trip.
 */
final class RemoteShardCalls {

    /** One script call on one shard: the shard and the script's arguments. */
    record Call(int shard, List<byte[]> args) {
    }

    private final RemoteKeys keys;
    private final Map<Integer, HostAndPort> nodeOfShard = new ConcurrentHashMap<>();

    RemoteShardCalls(RemoteKeys keys) {
        this.keys = keys;
    }

    /**
     * Runs {@code script} for each call; element {@code i} of the result is the raw reply to call
     * {@code i}, or the {@link RuntimeException} that kept it from an answer (its node unreachable,
     * an error reply).
     */
    Object[] run(UnifiedJedis redis, RemoteScript script, List<Call> calls) {
        Object[] out = new Object[calls.size()];
        Map<HostAndPort, List<Integer>> groups = group(redis, calls, out);
        if (groups.size() == 1) {
            groups.values().forEach(g -> runGroup(redis, script, calls, g, out));
            return out;
        }
        List<Thread> threads = new ArrayList<>(groups.size());
        for (List<Integer> g : groups.values()) {
            threads.add(Thread.ofVirtual().name("lmcache-remote-shards").start(() -> runGroup(redis, script, calls, g, out)));
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the remote index's nodes", e);
            }
        }
        return out;
    }

    /** The calls by node (a single server: one group); a call whose node cannot be learned gets its failure in {@code out}. */
    private Map<HostAndPort, List<Integer>> group(UnifiedJedis redis, List<Call> calls, Object[] out) {
        Map<HostAndPort, List<Integer>> groups = new LinkedHashMap<>();
        if (!(redis instanceof RedisClusterClient cluster)) {
            List<Integer> all = new ArrayList<>(calls.size());
            for (int i = 0; i < calls.size(); i++) {
                all.add(i);
            }
            groups.put(new HostAndPort("single", 0), all);
            return groups;
        }
        for (int i = 0; i < calls.size(); i++) {
            int shard = calls.get(i).shard();
            try {
                HostAndPort node = nodeOfShard.computeIfAbsent(shard, s -> nodeOf(cluster, keys.slotOf(s)));
                groups.computeIfAbsent(node, n -> new ArrayList<>()).add(i);
            } catch (RuntimeException e) {
                out[i] = e;
            }
        }
        return groups;
    }

    private static HostAndPort nodeOf(RedisClusterClient cluster, int slot) {
        try (Connection c = cluster.getConnectionFromSlot(slot)) {
            return c.getHostAndPort();
        }
    }

    private void runGroup(UnifiedJedis redis, RemoteScript script, List<Call> calls, List<Integer> group, Object[] out) {
        List<Integer> redirected = new ArrayList<>();
        try (AbstractPipeline p = pipelineFor(redis, calls.get(group.getFirst()).shard())) {
            List<Response<Object>> replies = new ArrayList<>(group.size());
            for (int i : group) {
                replies.add(script.queue(p, keys.indexKeys(calls.get(i).shard()), calls.get(i).args()));
            }
            p.sync();
            List<Integer> unknown = new ArrayList<>();
            collect(group, replies, out, unknown, redirected);
            if (!unknown.isEmpty()) {
                replies.clear();
                for (int i : unknown) {
                    replies.add(script.queueWhole(p, keys.indexKeys(calls.get(i).shard()), calls.get(i).args()));
                }
                p.sync();
                collect(unknown, replies, out, new ArrayList<>(), redirected);
            }
        } catch (RuntimeException e) {
            for (int i : group) {
                if (out[i] == null) {
                    out[i] = e;
                }
                nodeOfShard.remove(calls.get(i).shard());
            }
        }
        for (int i : redirected) { // slots moved: let the cluster client follow the redirect
            Call c = calls.get(i);
            nodeOfShard.remove(c.shard());
            try {
                out[i] = script.run(redis, keys.indexKeys(c.shard()), c.args().toArray(byte[][]::new));
            } catch (RuntimeException e) {
                out[i] = e;
            }
        }
    }

    private static void collect(List<Integer> group, List<Response<Object>> replies, Object[] out, List<Integer> unknown,
                                List<Integer> redirected) {
        for (int k = 0; k < group.size(); k++) {
            int i = group.get(k);
            try {
                out[i] = replies.get(k).get();
            } catch (JedisNoScriptException e) {
                unknown.add(i);
            } catch (JedisRedirectionException e) {
                redirected.add(i);
            } catch (RuntimeException e) {
                out[i] = e;
            }
        }
    }

    private AbstractPipeline pipelineFor(UnifiedJedis redis, int shard) {
        if (redis instanceof RedisClusterClient cluster) {
            return new Pipeline(cluster.getConnectionFromSlot(keys.slotOf(shard)), true);
        }
        return redis.pipelined();
    }
}
