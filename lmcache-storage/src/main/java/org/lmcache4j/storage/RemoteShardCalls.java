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
 * Runs one index command (a script, or a plain read) on each of several shards of a namespace ({@link RemoteKeys}) in one pipelined
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

    /**
     * One command on one shard: the shard, how to queue the command given the shard's index keys, and how
     * to queue it again when the server lacked the script it ran (null when it runs none).
     */
    record Call(int shard, Queuer send, Queuer sendWhole) {

        /** A call of {@code script} with {@code args}. */
        static Call script(int shard, RemoteScript script, List<byte[]> args) {
            return new Call(shard, (p, keys) -> script.queue(p, keys, args), (p, keys) -> script.queueWhole(p, keys, args));
        }
    }

    /** Queues one command on a pipeline. */
    @FunctionalInterface
    interface Queuer {
        Response<?> queue(AbstractPipeline pipeline, List<byte[]> shardKeys);
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
    Object[] run(UnifiedJedis redis, List<Call> calls) {
        Object[] out = new Object[calls.size()];
        Map<HostAndPort, List<Integer>> groups = group(redis, calls, out);
        if (groups.isEmpty()) {
            return out; // no call's node could be found: every element holds its failure
        }
        if (groups.size() == 1) {
            groups.values().forEach(g -> runGroup(redis, calls, g, out));
            return out;
        }
        List<Thread> threads = new ArrayList<>(groups.size());
        List<List<Integer>> all = new ArrayList<>(groups.values());
        for (List<Integer> g : all.subList(1, all.size())) {
            threads.add(Thread.ofVirtual().name("lmcache-remote-shards").start(() -> runGroup(redis, calls, g, out)));
        }
        runGroup(redis, calls, all.getFirst(), out); // the caller asks one node itself
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

    private void runGroup(UnifiedJedis redis, List<Call> calls, List<Integer> group, Object[] out) {
        List<Integer> redirected = new ArrayList<>();
        try (AbstractPipeline p = pipelineFor(redis, calls.get(group.getFirst()).shard())) {
            List<Response<?>> replies = new ArrayList<>(group.size());
            for (int i : group) {
                replies.add(calls.get(i).send().queue(p, keys.indexKeys(calls.get(i).shard())));
            }
            p.sync();
            List<Integer> unknown = new ArrayList<>();
            collect(calls, group, replies, out, unknown, redirected);
            if (!unknown.isEmpty()) {
                replies.clear();
                for (int i : unknown) {
                    replies.add(calls.get(i).sendWhole().queue(p, keys.indexKeys(calls.get(i).shard())));
                }
                p.sync();
                collect(calls, unknown, replies, out, new ArrayList<>(), redirected);
            }
        } catch (RuntimeException e) {
            for (int i : group) {
                if (out[i] == null) {
                    out[i] = e;
                }
                nodeOfShard.remove(calls.get(i).shard());
            }
        }
        if (!redirected.isEmpty()) { // slots moved: learn their nodes again and ask once more
            redirected.forEach(i -> nodeOfShard.remove(calls.get(i).shard()));
            if (redis instanceof RedisClusterClient cluster) {
                cluster.refreshClusterTopology();
            }
            for (int i : redirected) {
                Call c = calls.get(i);
                try (AbstractPipeline p = pipelineFor(redis, c.shard())) {
                    Response<?> r = c.send().queue(p, keys.indexKeys(c.shard()));
                    p.sync();
                    out[i] = r.get();
                } catch (RuntimeException e) {
                    out[i] = e;
                }
            }
        }
    }

    private static void collect(List<Call> calls, List<Integer> group, List<Response<?>> replies, Object[] out, List<Integer> unknown,
                                List<Integer> redirected) {
        for (int k = 0; k < group.size(); k++) {
            int i = group.get(k);
            try {
                out[i] = replies.get(k).get();
            } catch (JedisNoScriptException e) {
                if (calls.get(i).sendWhole() == null) {
                    out[i] = e;
                } else {
                    unknown.add(i);
                }
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
