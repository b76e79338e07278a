package org.lmcache4j.redis;

import java.lang.foreign.Arena;
import java.util.List;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.testing.RedisServer;

/**
 * Measures put and get throughput of the remote tier for one chunk size and a range of part sizes, on a
 * redis-server of its own (loopback), so the default part size is chosen by measurement. Not a test.
 * Arguments: [chunk MiB (16)] [chunks (8)] [rounds (4)]. How to run: {@link RemoteBenchmarks}.
 */
public final class RemotePartSizeBenchmark {

    private RemotePartSizeBenchmark() {
    }

    public static void main(String[] args) {
        long chunkBytes = (args.length > 0 ? Long.parseLong(args[0]) : 16) << 20;
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int[] partSizes = {64 << 10, 256 << 10, 512 << 10, 1 << 20, 2 << 20, 4 << 20, 8 << 20, (int) Math.min(chunkBytes, 512 << 20)};
        System.out.printf("remote tier, chunks of %d MiB, %d chunks x %d rounds, one thread, loopback redis-server%n",
                chunkBytes >> 20, count, rounds);
        System.out.printf("%10s %6s %12s %12s%n", "part", "parts", "put GB/s", "get GB/s");
        try (RedisServer redis = RedisServer.start()) {
            for (int part : partSizes) {
                String url = redis.url() + "?partBytes=" + part + "&timeoutMillis=10000";
                try (Arena arena = Arena.ofShared(); RemoteTier tier = RemoteBenchmarks.tier(url)) {
                    double[] put = new double[1];
                    List<ChunkKey> keys = RemoteBenchmarks.putAll(tier, arena, count, chunkBytes, put);
                    RemoteBenchmarks.getAll(tier, keys, 1); // warm up
                    double get = RemoteBenchmarks.medianGet(tier, keys, rounds, 3);
                    System.out.printf("%9dK %6d %12.2f %12.2f%n", part >> 10, (chunkBytes + part - 1) / part, put[0], get);
                    tier.clear();
                }
            }
        }
    }
}
