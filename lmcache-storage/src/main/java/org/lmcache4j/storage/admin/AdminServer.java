package org.lmcache4j.storage.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.lmcache4j.api.KvConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoint of one connector, on the JDK's built-in HTTP server: lookup (token ids to hit
 * tokens per tier), clear, pin and unpin, health, and metrics in Prometheus text format. Off unless
 * started; bound to loopback unless {@link AdminOptions#allowNonLoopback()}; with a bearer token when
 * one is configured. A request a web page sent (an {@code Origin} header naming another host than loopback) or one
 * addressed to another host name while bound to loopback (DNS rebinding) is refused with 403: a browser on the
 * machine cannot clear or read the cache for a site. JSON in and out; every bad request gets 400 and a message. A pin not unpinned is
 * dropped (and closed) after a day, or when 10,000 are held; its id then gets 404 like an unpinned one. Each
 * connection is served on a virtual thread of its own, so a client that stalls mid-request holds nothing another
 * needs; at most {@value #WORKING} requests run against the connector at once.
 *
 * <pre>
 * GET  /health                            {"healthy":true,"tiers":[...]}
 * GET  /metrics                           Prometheus text
 * POST /lookup  {"tokens":[1,2,3]}        {"tokens":3,"hit_tokens":0,"by_tier":{"cpu":0,"disk":0}}
 * POST /pin     {"tokens":[1,2,3]}        {"pin_id":"pin-1","hit_tokens":0}
 * POST /unpin   {"pin_id":"pin-1"}        {"unpinned":true}
 * POST /clear                             {"cleared":true}
 * </pre>
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    /** Requests that run against the connector at once; more wait (bounding the endpoint's share of the engine's cores). */
    static final int WORKING = 2;

    private final java.util.concurrent.Semaphore working = new java.util.concurrent.Semaphore(WORKING);

    private final HttpServer server;
    private final ExecutorService executor;
    private final AdminRoutes routes;
    private final AutoCloseable latencySubscription;

    private AdminServer(HttpServer server, ExecutorService executor, AdminRoutes routes, AutoCloseable latencySubscription) {
        this.server = server;
        this.executor = executor;
        this.routes = routes;
        this.latencySubscription = latencySubscription;
    }

    /**
     * Starts serving {@code connector}.
     *
     * @throws IllegalArgumentException for a non-loopback address without {@code allowNonLoopback}
     * @throws UncheckedIOException     when the address cannot be bound
     */
    public static AdminServer start(KvConnector connector, AdminOptions options) {
        InetAddress address;
        try {
            address = InetAddress.getByName(options.bindAddress());
        } catch (IOException e) {
            throw new IllegalArgumentException("bindAddress: '" + options.bindAddress() + "' (expected: a resolvable address)", e);
        }
        if (!address.isLoopbackAddress() && !options.allowNonLoopback()) {
            throw new IllegalArgumentException("bindAddress: " + options.bindAddress() + " is not a loopback address (expected: "
                    + "127.0.0.1 or ::1, or allowNonLoopback=true to expose the admin endpoint on the network)");
        }
        LatencyHistograms latencies = new LatencyHistograms();
        AutoCloseable subscription = connector.subscribe(latencies);
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(address, options.port()), 16);
        } catch (IOException e) {
            closeQuietly(subscription);
            throw new UncheckedIOException("admin endpoint: cannot bind " + options.bindAddress() + ":" + options.port(), e);
        }
        // a thread per connection: the JDK's server reads a request on the executor, so with a fixed pool of two, two
        // clients that stalled mid-request left no thread for anyone else
        ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("lmcache-admin-", 0).factory());
        AdminRoutes routes = new AdminRoutes(connector, latencies);
        AdminServer admin = new AdminServer(server, executor, routes, subscription);
        server.createContext("/", exchange -> admin.handle(exchange, options));
        server.setExecutor(executor);
        server.start();
        LOG.info("lmcache4j admin endpoint on http://{}:{}/ (bearer token {})", options.bindAddress(), admin.port(),
                options.bearerToken().isPresent() ? "required" : "off");
        return admin;
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange, AdminOptions options) throws IOException {
        try (exchange) {
            AdminRoutes.Response response;
            try {
                Optional<String> foreign = RequestOrigin.refusal(exchange, options);
                if (foreign.isPresent()) {
                    response = AdminRoutes.Response.error(403, foreign.get());
                } else if (!authorized(exchange, options)) {
                    exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer");
                    response = AdminRoutes.Response.error(401, "missing or wrong bearer token");
                } else {
                    String body = body(exchange);
                    working.acquireUninterruptibly();
                    try {
                        response = routes.route(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                                exchange.getRequestURI().getRawQuery(), body);
                    } finally {
                        working.release();
                    }
                }
            } catch (RuntimeException e) { // a failure the routes do not answer themselves: the client still gets an answer
                LOG.warn("admin endpoint: {} {} failed: {}", exchange.getRequestMethod(), exchange.getRequestURI(), e.toString(), e);
                response = AdminRoutes.Response.error(500, "the request failed: " + e);
            }
            byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", response.contentType());
            exchange.sendResponseHeaders(response.status(), bytes.length == 0 ? -1 : bytes.length);
            if (bytes.length > 0) {
                exchange.getResponseBody().write(bytes);
            }
        } catch (RuntimeException e) {
            LOG.warn("admin endpoint: {} {} failed: {}", exchange.getRequestMethod(), exchange.getRequestURI(), e.toString(), e);
        }
    }

    private static boolean authorized(HttpExchange exchange, AdminOptions options) {
        if (options.bearerToken().isEmpty()) {
            return true;
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        byte[] expected = ("Bearer " + options.bearerToken().get()).getBytes(StandardCharsets.UTF_8);
        return header != null && MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8));
    }

    private static String body(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            byte[] bytes = in.readNBytes(Json.MAX_LENGTH + 1);
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** Stops listening, ends the pins it holds, and stops timing the connector's calls; idempotent. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        routes.close();
        closeQuietly(latencySubscription);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.debug("closing {} failed", c, e);
        }
    }
}
