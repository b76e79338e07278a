package org.lmcache4j.redis;

import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisAskDataException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisNoScriptException;
import redis.clients.jedis.exceptions.JedisRedirectionException;

/**
 * Runs one index command (a script, or a plain read) on each of several shards of a namespace ({@link RemoteKeys}) in one pipelined
 * round trip per node that holds them, the nodes at the same time: a prompt's lookup, the usage of every
 * shard. A node that fails fails only its own shards' calls, so a lost master costs its chunks, not the
 * others'.
 *
 * <p>Implementation notes. On a cluster the master of each shard's slot comes from the slot map that
 * {@link ClusterTopology} keeps (and reads again after a failure or a redirect, so a failover is followed);
 * each master's calls go down one connection of that node's pool as one {@link Pipeline}, on a virtual
 * thread of its own, and the caller waits for them at most the timeout: a master that does not answer in
 * time fails its shards' calls and is skipped (its calls fail at once) until a probe finds it back, so a
 * blackholed master costs one lookup one timeout, not every lookup. Jedis' own cluster pipeline does the
 * grouping too, but one node that cannot be reached aborts it for all. A call redirected ({@code MOVED},
 * {@code ASK}: slots moved) is run again on its own on the node named by the redirect; a server that
 * lacks the script gets it whole in a second round trip.
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
    private final long timeoutMillis;
    private final ClusterTopology topology;

    /**
     * @param timeoutMillis  how long a call waits for the nodes of a cluster, at most
     * @param intervalMillis how often a dead master is probed and the slot map read again, at most
     */
    RemoteShardCalls(RemoteKeys keys, long timeoutMillis, long intervalMillis) {
        this.keys = keys;
        this.timeoutMillis = timeoutMillis;
        this.topology = new ClusterTopology(intervalMillis);
    }

    /**
     * Runs each call; element {@code i} of the result is the raw reply to call {@code i}, or the
     * {@link RuntimeException} that kept it from an answer (its node unreachable, skipped as dead, too
     * slow, an error reply).
     */
    Object[] run(UnifiedJedis redis, List<Call> calls) {
        Object[] out = new Object[calls.size()];
        if (!(redis instanceof RedisClusterClient cluster)) {
            List<Integer> all = new ArrayList<>(calls.size());
            for (int i = 0; i < calls.size(); i++) {
                all.add(i);
            }
            try {
                Object[] replies = onPipeline(redis, null, calls, all);
                System.arraycopy(replies, 0, out, 0, out.length);
            } catch (RuntimeException e) {
                java.util.Arrays.fill(out, e);
            }
            return out;
        }
        Map<HostAndPort, List<Integer>> groups = group(cluster, calls, out);
        Map<HostAndPort, CompletableFuture<Object[]>> pending = new LinkedHashMap<>();
        groups.forEach((node, group) -> {
            CompletableFuture<Object[]> f = new CompletableFuture<>();
            Thread.ofVirtual().name("lmcache-remote-shards").start(() -> {
                try {
                    f.complete(onNode(cluster, node, calls, group));
                } catch (RuntimeException e) { // a bug, not the node: its calls fail, the others stand
                    Object[] failed = new Object[group.size()];
                    java.util.Arrays.fill(failed, e);
                    f.complete(failed);
                }
            });
            pending.put(node, f);
        });
        awaitAll(pending.values());
        groups.forEach((node, group) -> {
            Object[] replies = pending.get(node).getNow(null);
            if (replies == null) { // still waiting for the node: it stays a failure, whatever comes later
                RuntimeException late = new JedisConnectionException("cluster node " + node + ": no answer within " + timeoutMillis + " ms");
                topology.failed(cluster, node, late);
                group.forEach(i -> out[i] = late);
                return;
            }
            for (int k = 0; k < group.size(); k++) {
                out[group.get(k)] = replies[k];
            }
        });
        return out;
    }

    /** True on a cluster while some master is not skipped as dead; false on a single server. */
    boolean someMasterServing(UnifiedJedis redis) {
        return redis instanceof RedisClusterClient && topology.someMasterServing();
    }

    /** Waits for every future at most the timeout. */
    private void awaitAll(java.util.Collection<CompletableFuture<Object[]>> futures) {
        try {
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // the slow nodes' calls fail: the caller's wait is bounded (the futures never complete exceptionally)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException cause = new InterruptedIOException("waiting for the remote index's nodes");
            cause.initCause(e);
            throw new JedisConnectionException("interrupted", cause);
        }
    }

    /**
     * The calls by master; a call whose master cannot be learned, or is skipped as dead, gets its failure
     * in {@code out}.
     */
    private Map<HostAndPort, List<Integer>> group(RedisClusterClient cluster, List<Call> calls, Object[] out) {
        Map<HostAndPort, List<Integer>> groups = new LinkedHashMap<>();
        Map<HostAndPort, RuntimeException> skipped = new LinkedHashMap<>();
        for (int i = 0; i < calls.size(); i++) {
            try {
                HostAndPort node = topology.masterOf(cluster, keys.slotOf(calls.get(i).shard()));
                if (topology.skips(cluster, node)) {
                    out[i] = skipped.computeIfAbsent(node, n -> new JedisConnectionException("cluster node " + n
                            + ": skipped, it failed and no probe has found it back"));
                } else {
                    groups.computeIfAbsent(node, n -> new ArrayList<>()).add(i);
                }
            } catch (RuntimeException e) {
                out[i] = e;
            }
        }
        return groups;
    }

    /** The replies to {@code group}'s calls from {@code node}, and what it taught the topology. */
    private Object[] onNode(RedisClusterClient cluster, HostAndPort node, List<Call> calls, List<Integer> group) {
        Object[] replies;
        try {
            replies = onPipeline(cluster, node, calls, group);
        } catch (RuntimeException e) {
            topology.failed(cluster, node, e);
            Object[] failed = new Object[group.size()];
            java.util.Arrays.fill(failed, e);
            return failed;
        }
        topology.answered(node);
        for (int k = 0; k < group.size(); k++) {
            if (replies[k] instanceof JedisRedirectionException r) { // slots moved: ask where the node says, learn the map again
                topology.refresh(cluster);
                replies[k] = redirected(cluster, r, calls.get(group.get(k)));
            }
        }
        return replies;
    }

    /** The reply to {@code call} from the node a redirect named (after {@code ASKING} for an {@code ASK}), or its failure. */
    private Object redirected(RedisClusterClient cluster, JedisRedirectionException r, Call call) {
        try (Pipeline p = new Pipeline(ClusterTopology.pool(cluster, r.getTargetNode()).getResource(), true)) {
            if (r instanceof JedisAskDataException) {
                p.sendCommand(Protocol.Command.ASKING, new String[0]);
            }
            Response<?> reply = call.send().queue(p, keys.indexKeys(call.shard()));
            p.sync();
            return reply.get();
        } catch (RuntimeException e) {
            return e;
        }
    }

    /**
     * The replies to {@code group}'s calls in one pipeline ({@code node}'s, or the single server's when
     * null), a call's error reply in its place; a redirect is left in place for the caller.
     *
     * @throws RuntimeException when the node cannot be reached or fails to answer (every call of the group failed)
     */
    private Object[] onPipeline(UnifiedJedis redis, HostAndPort node, List<Call> calls, List<Integer> group) {
        Object[] out = new Object[group.size()];
        try (AbstractPipeline p = node == null ? redis.pipelined()
                : new Pipeline(ClusterTopology.pool((RedisClusterClient) redis, node).getResource(), true)) {
            List<Response<?>> replies = new ArrayList<>(group.size());
            for (int i : group) {
                replies.add(calls.get(i).send().queue(p, keys.indexKeys(calls.get(i).shard())));
            }
            p.sync();
            List<Integer> unknown = new ArrayList<>(); // positions in group whose server lacked the script
            collect(replies, out, unknown, calls, group);
            if (!unknown.isEmpty()) {
                replies.clear();
                for (int k : unknown) {
                    int i = group.get(k);
                    replies.add(calls.get(i).sendWhole().queue(p, keys.indexKeys(calls.get(i).shard())));
                }
                p.sync();
                for (int j = 0; j < unknown.size(); j++) {
                    out[unknown.get(j)] = replyOrFailure(replies.get(j));
                }
            }
        }
        return out;
    }

    private static void collect(List<Response<?>> replies, Object[] out, List<Integer> unknown, List<Call> calls, List<Integer> group) {
        for (int k = 0; k < replies.size(); k++) {
            Object r = replyOrFailure(replies.get(k));
            if (r instanceof JedisNoScriptException && calls.get(group.get(k)).sendWhole() != null) {
                unknown.add(k);
            } else {
                out[k] = r;
            }
        }
    }

    private static Object replyOrFailure(Response<?> reply) {
        try {
            return reply.get();
        } catch (RuntimeException e) {
            return e;
        }
    }
}
