package org.lmcache4j.redis;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.testing.RedisClusterServers;
import org.lmcache4j.testing.RedisServer;
import org.lmcache4j.testing.StorageTierContract;

/**
 * Index operations per second of the remote tier against a loopback Redis: a single server, or a
 * cluster of 1 or 3 masters, with a given number of index shards. Each client thread looks up random
 * 32-chunk prompts ({@link RemoteTier#containsAll}) over a namespace of 4,096 indexed chunks. Prints
 * lookups/s, chunk lookups/s, and what the masters spent per script call (INFO commandstats), which
 * bounds what one master can serve on a core of its own. Not a test. Arguments: {@code single|cluster}
 * masters shards [clients (8)] [seconds (5)] [ttlSeconds (0): with a TTL, lookups run a script]. How to run: {@link RemoteBenchmarks}.
 */
public final class RemoteIndexBenchmark {

    private static final int CHUNKS = 4096;
    private static final int PROMPT = 32;

    private RemoteIndexBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        boolean cluster = args[0].equals("cluster");
        int masters = Integer.parseInt(args[1]);
        int shards = Integer.parseInt(args[2]);
        int clients = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        int seconds = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        RedisClusterServers c = cluster ? RedisClusterServers.start(masters, "--cluster-require-full-coverage", "no") : null;
        RedisServer single = cluster ? null : RedisServer.start();
        List<RedisServer> nodes = cluster ? c.nodes() : List.of(single);
        int ttl = args.length > 5 ? Integer.parseInt(args[5]) : 0;
        String url = (cluster ? c.url() : single.url()) + "?indexShards=" + shards + "&ttlSeconds=" + ttl + "&poolSize=" + (2 * clients)
                + "&timeoutMillis=10000&partBytes=4k";
        try (RemoteTier tier = RemoteBenchmarks.tier(url)) {
            List<ChunkKey> keys = new ArrayList<>();
            MemorySegment payload = MemorySegment.ofArray(new byte[64]);
            for (int i = 0; i < CHUNKS; i++) {
                ChunkKey k = StorageTierContract.key(i);
                tier.put(k, payload);
                keys.add(k);
            }
            run(tier, keys, clients, 1); // warm up: scripts loaded, connections open, JIT
            nodes.forEach(n -> n.call("CONFIG", "RESETSTAT"));
            long lookups = run(tier, keys, clients, seconds);
            long calls = 0;
            long usec = 0;
            StringBuilder perNode = new StringBuilder();
            for (RedisServer n : nodes) {
                Map<String, String> stats = n.info("commandstats");
                long nc = 0;
                for (String command : List.of("cmdstat_evalsha", "cmdstat_zmscore")) {
                    String v = stats.getOrDefault(command, "calls=0,usec=0,");
                    nc += Long.parseLong(v.substring(v.indexOf("calls=") + 6, v.indexOf(',')));
                    usec += Long.parseLong(v.substring(v.indexOf("usec=") + 5, v.indexOf(',', v.indexOf("usec="))));
                }
                calls += nc;
                perNode.append(' ').append(nc);
            }
            double perSecond = (double) lookups / seconds;
            System.out.printf("%s masters=%d shards=%d clients=%d ttl=%d: %.0f lookups/s (%d chunks each) = %.0f chunk lookups/s;"
                            + " index commands per master:%s; %.2f commands and %.1f us of master time per lookup"
                            + " -> one master core serves %.0f lookups/s%n",
                    cluster ? "cluster" : "single", masters, shards, clients, ttl, perSecond, PROMPT, perSecond * PROMPT, perNode,
                    (double) calls / lookups, (double) usec / lookups, lookups * 1e6 / usec);
        } finally {
            if (c != null) {
                c.close();
            }
            if (single != null) {
                single.close();
            }
        }
    }

    /** Lookups done by {@code clients} threads in {@code seconds}. */
    private static long run(RemoteTier tier, List<ChunkKey> keys, int clients, int seconds) throws InterruptedException {
        LongAdder done = new LongAdder();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            long seed = t;
            threads.add(Thread.ofPlatform().start(() -> {
                SplittableRandom r = new SplittableRandom(seed);
                List<ChunkKey> prompt = new ArrayList<>(PROMPT);
                while (System.nanoTime() < end) {
                    prompt.clear();
                    int from = r.nextInt(keys.size() - PROMPT);
                    prompt.addAll(keys.subList(from, from + PROMPT));
                    tier.containsAll(prompt);
                    done.increment();
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return done.sum();
    }
}
