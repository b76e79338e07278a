package org.lmcache4j.redis;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.testing.RedisServer;

/**
 * Remote-tier retrieve throughput as a ratio to {@code redis-benchmark} GETs of the same value size (the
 * part size), against the same redis-server, in the same run. Not a test. Arguments: [part KiB (1024)]
 * [chunk MiB (16)] [chunks (8)] [rounds (4)]. How to run: {@link RemoteBenchmarks}.
 */
public final class RemoteTierBenchmark {

    private RemoteTierBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int partBytes = (args.length > 0 ? Integer.parseInt(args[0]) : 1024) << 10;
        long chunkBytes = (args.length > 1 ? Long.parseLong(args[1]) : 16) << 20;
        int count = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        try (RedisServer redis = RedisServer.start(); Arena arena = Arena.ofShared()) {
            int requests = (int) Math.max(200, (2L << 30) / partBytes); // about 2 GiB of GETs
            double single = redisBenchmarkGetGbPerSecond(redis.port(), partBytes, requests, 1);
            double pipelined = redisBenchmarkGetGbPerSecond(redis.port(), partBytes, requests, 16);
            double tierGet;
            double[] put = new double[1];
            try (RemoteTier tier = RemoteBenchmarks.tier(redis.url() + "?partBytes=" + partBytes + "&timeoutMillis=10000")) {
                List<ChunkKey> keys = RemoteBenchmarks.putAll(tier, arena, count, chunkBytes, put);
                RemoteBenchmarks.getAll(tier, keys, 1); // warm up
                tierGet = RemoteBenchmarks.medianGet(tier, keys, rounds, 3);
            }
            System.out.printf("values of %d KiB on loopback redis-server %s (port %d), one connection or thread each:%n",
                    partBytes >> 10, redis.info("server").get("redis_version"), redis.port());
            System.out.printf("  redis-benchmark GET, no pipelining     %6.2f GB/s%n", single);
            System.out.printf("  redis-benchmark GET, pipeline of 16    %6.2f GB/s%n", pipelined);
            System.out.printf("  remote tier get, %d MiB chunks (%d parts, pipelined, checked, off-heap)  %6.2f GB/s   put %6.2f GB/s%n",
                    chunkBytes >> 20, (chunkBytes + partBytes - 1) / partBytes, tierGet, put[0]);
            System.out.printf("  ratio remote tier / redis-benchmark GET: %.2f (no pipelining), %.2f (pipeline of 16)%n",
                    tierGet / single, tierGet / pipelined);
        }
    }

    /** GET throughput of {@code redis-benchmark} in GB/s: {@code -t set,get} (SET first creates the key). */
    static double redisBenchmarkGetGbPerSecond(int port, int valueBytes, int requests, int pipeline)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(port), "-t", "set,get",
                "-d", Integer.toString(valueBytes), "-n", Integer.toString(requests), "-c", "1", "-P", Integer.toString(pipeline),
                "--csv").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("redis-benchmark failed: " + out);
        }
        for (String line : out.lines().toList()) {
            String[] f = line.replace("\"", "").split(",");
            if (f.length > 1 && f[0].equals("GET")) {
                return Double.parseDouble(f[1]) * valueBytes / 1e9;
            }
        }
        throw new IllegalStateException("no GET line in redis-benchmark's output: " + out);
    }
}
