package org.lmcache4j.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away {@code redis-server} for tests: on 127.0.0.1, on a free port, without persistence
 * ({@code --save '' --appendonly no}), daemonized with a pid file in a temporary directory, and stopped
 * by that PID. {@link #kill()} and {@link #restart()} (same port, same options, empty data) serve fault
 * tests; {@link #call} talks RESP to it without any client library. Servers still running when the JVM
 * exits are killed by a shutdown hook.
 *
 * <p>Needs {@code redis-server} on the {@code PATH} ({@code apt-get install redis-server}; {@code .ci/run}
 * installs it).
 */
public final class RedisServer implements AutoCloseable {

    private static final long START_TIMEOUT_MILLIS = 15_000;
    private static final int CALL_TIMEOUT_MILLIS = 30_000;
    private static final Set<RedisServer> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(RedisServer::kill), "redis-server-reaper"));
    }

    private final Path dir;
    private final List<String> extraArgs;
    private int port;
    private long pid = -1;
    private volatile boolean frozen;

    private RedisServer(Path dir, List<String> extraArgs) {
        this.dir = dir;
        this.extraArgs = List.copyOf(extraArgs);
    }

    /**
     * Starts a server on a free loopback port and waits until it answers {@code PING}.
     *
     * @param extraArgs further {@code redis-server} options, e.g. {@code "--maxmemory", "64mb"}
     * @throws IllegalStateException when {@code redis-server} is missing or does not come up
     */
    public static RedisServer start(String... extraArgs) {
        Path dir;
        try {
            dir = Files.createTempDirectory("redis-test-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RedisServer server = new RedisServer(dir, List.of(extraArgs));
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                server.launch(freePort());
                return server;
            } catch (IllegalStateException e) {
                last = e; // most likely the port was taken meanwhile: try another
            }
        }
        server.deleteDir();
        throw last;
    }

    public int port() {
        return port;
    }

    /** PID of the running server, -1 when stopped. */
    public long pid() {
        return pid;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** Kills the server with SIGKILL (a crash: no shutdown work) and waits until it is gone. */
    public void kill() {
        terminate(true);
    }

    /**
     * Stops the process with SIGSTOP: it keeps its port, and the kernel still completes connections into its
     * listen backlog, but nothing is read or answered, as with a node behind a network that drops its replies.
     * {@link #thaw()} resumes it; stopping or closing a frozen server thaws it first.
     */
    public void freeze() {
        signal("STOP");
        frozen = true;
    }

    /** Resumes a {@link #freeze() frozen} server (SIGCONT); it then serves what queued up meanwhile. */
    public void thaw() {
        signal("CONT");
        frozen = false;
    }

    private void signal(String name) {
        if (pid <= 0) {
            throw new IllegalStateException("redis-server on port " + port + ": not running");
        }
        try {
            Process p = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true).start();
            if (!p.waitFor(START_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + pid + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling redis-server", e);
        }
    }

    /** Stops the server with SIGTERM and waits until it is gone; idempotent. */
    public void stop() {
        terminate(false);
    }

    /** Starts the server again on the same port with the same options (and, without persistence, no data). */
    public void restart() {
        if (pid > 0) {
            stop();
        }
        launch(port);
    }

    /**
     * Sends one command and returns the reply: a {@code String} (simple or bulk, UTF-8), a {@code Long},
     * a {@code List} of replies, or null; an error reply is thrown as {@link IllegalStateException}.
     */
    public Object call(String... command) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), CALL_TIMEOUT_MILLIS);
            s.setSoTimeout(CALL_TIMEOUT_MILLIS);
            OutputStream out = s.getOutputStream();
            ByteArrayOutputStream req = new ByteArrayOutputStream();
            req.writeBytes(("*" + command.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            for (String arg : command) {
                byte[] b = arg.getBytes(StandardCharsets.UTF_8);
                req.writeBytes(("$" + b.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
                req.writeBytes(b);
                req.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write(req.toByteArray());
            out.flush();
            return readReply(new BufferedInputStream(s.getInputStream()));
        } catch (IOException e) {
            throw new UncheckedIOException("redis-server on port " + port + ": " + String.join(" ", command) + " failed", e);
        }
    }

    /** The fields of {@code INFO section} as a map. */
    public Map<String, String> info(String section) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : ((String) call("INFO", section)).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && !line.startsWith("#")) {
                fields.put(line.substring(0, colon), line.substring(colon + 1));
            }
        }
        return fields;
    }

    /**
     * Commands the server has executed since the last {@code CONFIG RESETSTAT}, by name, from
     * {@code INFO commandstats} (e.g. {@code evalsha -> 1}).
     */
    public Map<String, Long> commandCounts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        info("commandstats").forEach((k, v) -> {
            // cmdstat_evalsha:calls=1,usec=...
            String calls = v.substring(v.indexOf("calls=") + 6);
            counts.put(k.substring("cmdstat_".length()), Long.parseLong(calls.substring(0, calls.indexOf(','))));
        });
        return counts;
    }

    /**
     * Starts watching the commands clients send (Redis {@code MONITOR}); close it when done. Unlike
     * {@code INFO commandstats}, it tells a command a client sent from those a Lua script ran.
     */
    public Monitor monitor() {
        return new Monitor();
    }

    /** A {@code MONITOR} connection: the commands clients sent, in order, one line per command. */
    public final class Monitor implements AutoCloseable {

        private final Socket socket;
        private final BufferedInputStream in;

        private Monitor() {
            try {
                socket = new Socket();
                socket.connect(new InetSocketAddress("127.0.0.1", port), CALL_TIMEOUT_MILLIS);
                socket.setSoTimeout(CALL_TIMEOUT_MILLIS);
                socket.getOutputStream().write("*1\r\n$7\r\nMONITOR\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                in = new BufferedInputStream(socket.getInputStream());
                Object ok = readReply(in);
                if (!"OK".equals(ok)) {
                    throw new IllegalStateException("MONITOR answered " + ok);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("redis-server on port " + port + ": MONITOR failed", e);
            }
        }

        /**
         * The names (lower case) of the commands clients sent since the monitor started or this was last
         * called, leaving out those that Lua scripts ran and this method's own marker.
         */
        public List<String> clientCommands() {
            String marker = "lmcache4j-monitor-marker-" + System.nanoTime();
            call("ECHO", marker);
            List<String> names = new ArrayList<>();
            try {
                for (;;) {
                    String line = (String) readReply(in); // 1700000000.123456 [0 127.0.0.1:5555] "get" "key"
                    if (line.contains(marker)) {
                        return names;
                    }
                    int open = line.indexOf('[');
                    int close = line.indexOf(']', open);
                    String source = line.substring(open + 1, close);
                    if (source.endsWith(" lua") || source.equals("lua")) {
                        continue;
                    }
                    int q = line.indexOf('"', close);
                    names.add(line.substring(q + 1, line.indexOf('"', q + 1)).toLowerCase(java.util.Locale.ROOT));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("redis-server on port " + port + ": reading MONITOR failed", e);
            }
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }

    /** Stops the server and deletes its directory; idempotent. */
    @Override
    public void close() {
        stop();
        deleteDir();
    }

    // ---------------------------------------------------------------------------------------------

    private void launch(int onPort) {
        Path pidFile = dir.resolve("redis-" + onPort + ".pid");
        Path log = dir.resolve("redis-" + onPort + ".log");
        List<String> cmd = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(onPort), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "yes", "--pidfile", pidFile.toString(), "--logfile",
                log.toString(), "--dir", dir.toString(), "--enable-debug-command", "local"));
        cmd.addAll(extraArgs);
        try {
            Files.deleteIfExists(pidFile);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("launch.out").toFile()).start();
            if (!p.waitFor(START_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("redis-server did not daemonize: " + read(dir.resolve("launch.out")) + read(log));
            }
            long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
            this.port = onPort;
            while (System.currentTimeMillis() < deadline) {
                if (Files.exists(pidFile) && pid <= 0) {
                    String text = Files.readString(pidFile).strip();
                    if (!text.isEmpty()) {
                        pid = Long.parseLong(text);
                        RUNNING.add(this);
                    }
                }
                if (pid > 0 && answersPing()) {
                    return;
                }
                if (pid > 0 && !alive(pid)) {
                    break;
                }
                Thread.sleep(10);
            }
            terminate(true);
            throw new IllegalStateException("redis-server on port " + onPort + " did not answer PING within "
                    + START_TIMEOUT_MILLIS + " ms; its log: " + read(log));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run redis-server (is it installed? apt-get install redis-server): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting redis-server", e);
        }
    }

    private boolean answersPing() {
        try {
            return "PONG".equals(call("PING"));
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void terminate(boolean forcibly) {
        long p = pid;
        if (p <= 0) {
            return;
        }
        if (frozen) {
            thaw(); // a stopped process would hold SIGTERM until then
        }
        ProcessHandle.of(p).ifPresent(h -> {
            if (forcibly) {
                h.destroyForcibly();
            } else {
                h.destroy();
            }
        });
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
        while (alive(p) && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (alive(p) && !forcibly) {
            terminate(true);
            return;
        }
        pid = -1;
        RUNNING.remove(this);
    }

    /** True while {@code pid} runs (a zombie, which a container's init may never reap, counts as gone). */
    private static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            if (Files.isDirectory(Path.of("/proc"))) {
                return false; // no entry: gone
            }
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); // no procfs here
        }
    }

    private static Object readReply(InputStream in) throws IOException {
        int type = in.read();
        String line = readLine(in);
        return switch (type) {
            case '+' -> line;
            case '-' -> throw new IllegalStateException("redis error reply: " + line);
            case ':' -> Long.parseLong(line);
            case '$' -> {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    yield null;
                }
                byte[] b = in.readNBytes(n + 2);
                yield new String(b, 0, n, StandardCharsets.UTF_8);
            }
            case '*' -> {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    yield null;
                }
                List<Object> items = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    items.add(readReply(in));
                }
                yield items;
            }
            case -1 -> throw new IOException("connection closed before a reply");
            default -> throw new IOException("unexpected RESP type byte " + type);
        };
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\r') {
                in.read(); // '\n'
                break;
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "(" + file + ": " + e + ")";
        }
    }

    private void deleteDir() {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary directory; leaving it is harmless
        }
    }
}
