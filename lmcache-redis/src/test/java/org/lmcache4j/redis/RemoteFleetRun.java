package org.lmcache4j.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.lmcache4j.testing.RedisClusterServers;
import org.lmcache4j.testing.RedisServer;

/**
 * The sizing model of docs/SCALING.md checked on loopback: a Redis Cluster of {@code masters} masters
 * and {@code engines} engine processes ({@link RemoteFleetEngine}, one JVM and one connector each)
 * sharing one namespace. Prints, for the measuring window, what the model predicts from the requests
 * the engines made (their count, hits and misses) and what the masters measured (network bytes, index
 * and part commands). Not a test. Arguments: [engines (8)] [seconds (20)] [hit ratio (0.5)] [shared
 * prompts (64)] [masters (3)]. How to run: {@link RemoteBenchmarks}.
 */
public final class RemoteFleetRun {

    private RemoteFleetRun() {
    }

    public static void main(String[] args) throws Exception {
        int engines = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        double hitRatio = args.length > 2 ? Double.parseDouble(args[2]) : 0.5;
        int prompts = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        int masters = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        try (RedisClusterServers cluster = RedisClusterServers.start(masters, "--cluster-require-full-coverage", "no")) {
            // a budget, so that the engines' own prompts evict each other rather than fill the machine's memory
            String url = cluster.url() + "?timeoutMillis=5000&capacity=6g&indexShards=" + RemoteUrl.DEFAULT_CLUSTER_INDEX_SHARDS;
            int shards = RemoteUrl.parse(url).indexShards();
            run(List.of("preload", url, Integer.toString(prompts))).waitFor();
            long start = System.currentTimeMillis() + 8_000; // every JVM started and connected by then
            List<Process> children = new ArrayList<>();
            for (int e = 0; e < engines; e++) {
                children.add(run(List.of("run", url, Integer.toString(e), Integer.toString(prompts), Double.toString(hitRatio),
                        Long.toString(start), Integer.toString(seconds))));
            }
            Thread.sleep(Math.max(0, start - System.currentTimeMillis()));
            List<Map<String, Long>> before = cluster.nodes().stream().map(RemoteFleetRun::counters).toList();
            Thread.sleep(seconds * 1000L);
            List<Map<String, Long>> after = cluster.nodes().stream().map(RemoteFleetRun::counters).toList();
            long requests = 0;
            long hits = 0;
            long misses = 0;
            long remoteHitChunks = 0;
            for (Process p : children) {
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("an engine process failed: " + out);
                }
                String[] f = out.lines().filter(l -> l.startsWith("requests ")).findFirst().orElseThrow().split(" ");
                requests += Long.parseLong(f[1]);
                hits += Long.parseLong(f[3]);
                misses += Long.parseLong(f[5]);
                remoteHitChunks += Long.parseLong(f[7]);
            }
            report(engines, seconds, hitRatio, masters, shards, requests, hits, misses, remoteHitChunks, before, after);
        }
    }

    private static void report(int engines, int seconds, double hitRatio, int masters, int shards, long requests, long hits,
                               long misses, long remoteHitChunks, List<Map<String, Long>> before, List<Map<String, Long>> after) {
        long chunkBytes = RemoteFleetEngine.LAYOUT.chunkBytes(RemoteFleetEngine.CHUNK_TOKENS);
        int chunks = RemoteFleetEngine.PROMPT_TOKENS / RemoteFleetEngine.CHUNK_TOKENS;
        double rate = (double) requests / seconds;
        double h = (double) hits / requests;
        double touched = shards * (1 - Math.pow(1 - 1.0 / shards, chunks)); // shards a prompt's chunks fall in
        // the model (docs/SCALING.md), fed with the request rate and hit ratio the engines reached
        double readBps = rate * h * chunks * chunkBytes;
        double writeBps = rate * (1 - h) * chunks * chunkBytes;
        double lookupCmds = rate * 2 * touched; // the lookup, then the retrieve's (a hit) or the store's (a miss) own
        double scriptCmds = rate * (h * chunks + (1 - h) * chunks); // a touch per chunk read, an admission per chunk stored
        double putLookups = rate * (1 - h) * chunks; // each put asks whether its chunk is there
        long in = 0;
        long out = 0;
        long zmscore = 0;
        long evalsha = 0;
        StringBuilder perMaster = new StringBuilder();
        for (int n = 0; n < after.size(); n++) {
            long ni = after.get(n).get("in") - before.get(n).get("in");
            long no = after.get(n).get("out") - before.get(n).get("out");
            in += ni;
            out += no;
            zmscore += after.get(n).get("zmscore") - before.get(n).get("zmscore");
            evalsha += after.get(n).get("evalsha") - before.get(n).get("evalsha");
            perMaster.append(String.format(" %.2f", (ni + no) / 1e9 / seconds));
        }
        System.out.printf("%d engines, %d s, %d masters, %d index shards: %d requests (%.1f/s), hit ratio %.2f (asked %.2f),"
                        + " %d chunks read from the remote tier%n", engines, seconds, masters, shards, requests, rate, h, hitRatio,
                remoteHitChunks);
        System.out.printf("                          predicted   measured%n");
        System.out.printf("remote read  GB/s         %9.3f  %9.3f   (masters' network out)%n", readBps / 1e9, out / 1e9 / seconds);
        System.out.printf("remote write GB/s         %9.3f  %9.3f   (masters' network in)%n", writeBps / 1e9, in / 1e9 / seconds);
        System.out.printf("lookup commands/s         %9.0f  %9.0f   (ZMSCORE, one per shard a prompt touches)%n",
                lookupCmds + putLookups, zmscore / (double) seconds);
        System.out.printf("index scripts/s           %9.0f  %9.0f   (EVALSHA: touch, admit)%n", scriptCmds, evalsha / (double) seconds);
        System.out.printf("network per master GB/s   %9.3f %s%n", (readBps + writeBps) / 1e9 / masters, perMaster);
    }

    private static Map<String, Long> counters(RedisServer node) {
        Map<String, String> stats = node.info("stats");
        Map<String, String> commands = node.info("commandstats");
        return Map.of("in", Long.parseLong(stats.get("total_net_input_bytes")), "out", Long.parseLong(stats.get("total_net_output_bytes")),
                "zmscore", calls(commands, "zmscore"), "evalsha", calls(commands, "evalsha"));
    }

    private static long calls(Map<String, String> commands, String name) {
        String v = commands.get("cmdstat_" + name);
        return v == null ? 0 : Long.parseLong(v.substring(v.indexOf("calls=") + 6, v.indexOf(',')));
    }

    private static Process run(List<String> args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-XX:+UseSerialGC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), RemoteFleetEngine.class.getName()));
        command.addAll(args);
        try {
            return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
