package org.lmcache4j.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@code redis-server} the quick benchmark starts for itself: on 127.0.0.1, on a free port, without
 * persistence, in the foreground of a child process that {@link #close()} stops (and a shutdown hook, if
 * the benchmark dies first).
 */
final class LoopbackRedis implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path dir;
    private final Thread reaper;

    private LoopbackRedis(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
        this.reaper = new Thread(process::destroyForcibly, "loopback-redis-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    /** Starts a server and waits until it answers PING. */
    static LoopbackRedis start() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("lmcache-bench-redis");
        Process p = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", dir.toString(), "--logfile", dir.resolve("redis.log").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
        LoopbackRedis redis = new LoopbackRedis(p, port, dir);
        boolean ok = false;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!answersPing(redis)) { // redis-cli fails while the server is not listening yet
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("redis-server on port " + port + " did not answer PING within 10 s: "
                            + Files.readString(dir.resolve("redis.out")));
                }
                Thread.sleep(50);
            }
            ok = true;
            return redis;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting redis-server", e);
        } finally {
            if (!ok) {
                redis.close();
            }
        }
    }

    private static boolean answersPing(LoopbackRedis redis) {
        try {
            return redis.cli("PING").strip().equals("PONG");
        } catch (IOException e) {
            return false;
        }
    }

    int port() {
        return port;
    }

    /** The remote tier's URL for this server, with parts of {@code partBytes}. */
    String url(int partBytes) {
        return "redis://127.0.0.1:" + port + "?partBytes=" + partBytes + "&timeoutMillis=10000";
    }

    void flushAll() throws IOException {
        cli("FLUSHALL");
    }

    private String cli(String... command) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        cmd.addAll(List.of(command));
        return run(cmd);
    }

    /** Runs {@code command} to its end and returns what it printed; throws when it fails. */
    static String run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(command.getFirst() + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while running " + command.getFirst(), e);
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException e) {
            // shutting down already: the hook runs anyway
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
