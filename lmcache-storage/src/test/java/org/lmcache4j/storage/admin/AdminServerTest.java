package org.lmcache4j.storage.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.SeededKv;

/** The admin endpoint through a real HTTP client: every endpoint, bad requests, auth, binding rules. */
class AdminServerTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 2, 8, KvDtype.FP16);
    private static final int CHUNK = 16;

    /** What a real HTTP client saw: status, headers we check, body. */
    record Reply(int statusCode, String body, String contentType, String wwwAuthenticate) {

        Optional<String> header(String name) {
            return Optional.ofNullable(name.equals("WWW-Authenticate") ? wwwAuthenticate : contentType);
        }
    }
    private final Arena arena = Arena.ofShared();
    private KvConnector connector;
    private AdminServer admin;
    private int[] tokens;

    @BeforeEach
    void setUp() {
        connector = KvConnectors.open(LmCacheConfig.builder().modelId("admin-test").chunkTokens(CHUNK)
                .maxLocalCpuBytes(64 * LAYOUT.chunkBytes(CHUNK)).noLocalDisk().build(), LAYOUT);
        tokens = SeededKv.tokens(1, 3 * CHUNK + 5);
        HostKvMemory kv = SeededKv.contiguous(arena, LAYOUT, tokens.length);
        int[] slots = SeededKv.identitySlots(tokens.length);
        SeededKv.fill(kv, tokens, slots);
        connector.store(tokens, kv, slots);
    }

    @AfterEach
    void tearDown() {
        if (admin != null) {
            admin.close();
        }
        connector.close();
        arena.close();
    }

    private Reply send(String method, String path, String body, String token) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + admin.port() + path).toURL().openConnection();
        c.setRequestMethod(method);
        if (token != null) {
            c.setRequestProperty("Authorization", "Bearer " + token);
        }
        if (body != null) {
            c.setDoOutput(true);
            try (OutputStream out = c.getOutputStream()) {
                out.write(body.getBytes(StandardCharsets.UTF_8));
            }
        }
        int status = c.getResponseCode();
        try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
            String text = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Reply(status, text, c.getHeaderField("Content-Type"), c.getHeaderField("WWW-Authenticate"));
        } finally {
            c.disconnect();
        }
    }

    private Reply send(String method, String path, String body) throws IOException {
        return send(method, path, body, null);
    }

    private String tokensJson(int[] t) {
        return "{\"tokens\":[" + Arrays.stream(t).mapToObj(Integer::toString).collect(Collectors.joining(",")) + "]}";
    }

    @Test
    void everyEndpointAnswers() throws Exception {
        admin = AdminServer.start(connector, AdminOptions.loopback());
        Reply health = send("GET", "/health", null);
        assertEquals(200, health.statusCode());
        assertTrue(health.body().startsWith("{\"healthy\":true,\"tiers\":[{\"name\":\"cpu\",\"healthy\":true,\"chunks\":3,"),
                health.body());

        Reply lookup = send("POST", "/lookup", tokensJson(tokens));
        assertEquals(200, lookup.statusCode());
        assertEquals("{\"tokens\":53,\"hit_tokens\":48,\"by_tier\":{\"cpu\":48}}", lookup.body());

        Reply pin = send("POST", "/pin", tokensJson(tokens));
        assertEquals("{\"pin_id\":\"pin-1\",\"hit_tokens\":48}", pin.body());
        assertEquals("{\"unpinned\":true}", send("POST", "/unpin", "{\"pin_id\":\"pin-1\"}").body());
        Reply again = send("POST", "/unpin", "{\"pin_id\":\"pin-1\"}");
        assertEquals(404, again.statusCode());
        assertTrue(again.body().contains("pin_id: pin-1"), again.body());

        Reply metrics = send("GET", "/metrics", null);
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.header("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        assertTrue(metrics.body().contains("\nlmcache_stored_chunks_total 3\n"), metrics.body());

        assertEquals("{\"cleared\":true}", send("POST", "/clear", null).body());
        assertEquals("{\"tokens\":53,\"hit_tokens\":0,\"by_tier\":{\"cpu\":0}}", send("POST", "/lookup", tokensJson(tokens)).body());
    }

    @Test
    void badRequestsGet400WithAMessage() throws Exception {
        admin = AdminServer.start(connector, AdminOptions.loopback());
        String[][] cases = {
            {"{\"tokens\":[1,2,", "bad JSON at character"},
            {"not json", "bad JSON at character 0"},
            {"[1,2,3]", "expected: a JSON object"},
            {"{}", "tokens: null (expected: an array of token ids)"},
            {"{\"tokens\":\"1,2\"}", "tokens: \\\"1,2\\\" (expected: an array"},
            {"{\"tokens\":[1,-2]}", "tokens[1]: -2 (expected: a token id"},
            {"{\"tokens\":[1,2.5]}", "tokens[1]: 2.5"},
            {"{\"tokens\":[3000000000]}", "tokens[0]: 3000000000"},
            {"{\"tokens\":[\"7\"]}", "tokens[0]: \\\"7\\\""},
            {"", "request body: empty"},
        };
        for (String[] c : cases) {
            Reply r = send("POST", "/lookup", c[0]);
            assertEquals(400, r.statusCode(), c[0]);
            assertTrue(r.body().startsWith("{\"error\":") && r.body().contains(c[1]), c[0] + " -> " + r.body());
        }
        assertEquals(400, send("POST", "/unpin", "{\"pin_id\":7}").statusCode());
        assertEquals(404, send("GET", "/nope", null).statusCode());
        assertEquals(405, send("GET", "/lookup", null).statusCode());
        assertEquals(405, send("POST", "/health", "{}").statusCode());
    }

    @Test
    void aBearerTokenIsRequiredWhenConfigured() throws Exception {
        admin = AdminServer.start(connector, AdminOptions.loopback().withBearerToken("s3cret"));
        assertEquals(401, send("GET", "/health", null).statusCode());
        assertEquals(401, send("GET", "/health", null, "wrong").statusCode());
        Reply denied = send("POST", "/clear", null, "s3cre");
        assertEquals(401, denied.statusCode());
        assertEquals(Optional.of("Bearer"), denied.header("WWW-Authenticate"));
        assertEquals(3, connector.stats().tiers().getFirst().chunks(), "a refused clear clears nothing");
        assertEquals(200, send("GET", "/health", null, "s3cret").statusCode());
        assertEquals(200, send("GET", "/metrics", null, "s3cret").statusCode());
    }

    @Test
    void aBlankBearerTokenIsRefusedNotTakenForNoToken() {
        // regression: a blank token (an unset variable, a stray space) silently turned authentication off
        for (String blank : new String[] {"", "  ", "\t\n"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> AdminOptions.loopback().withBearerToken(blank));
            assertTrue(e.getMessage().startsWith("bearerToken: blank (expected:"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new AdminOptions("127.0.0.1", 0, Optional.of(blank), false));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AdminOptions.loopback().withBearerToken(null));
        assertTrue(e.getMessage().startsWith("bearerToken: null (expected:"), e.getMessage());
        assertEquals(Optional.empty(), new AdminOptions("127.0.0.1", 0, null, false).bearerToken());
    }

    @Test
    void theOptionsNeverShowTheToken() {
        AdminOptions options = AdminOptions.loopback().withBearerToken("s3cret-t0ken");
        assertFalse(options.toString().contains("s3cret-t0ken"), options.toString());
        assertTrue(options.toString().contains("bearerToken=***"), options.toString());
        assertTrue(AdminOptions.loopback().toString().contains("bearerToken=none"), AdminOptions.loopback().toString());
    }

    @Test
    void nonLoopbackBindsAreRefusedUnlessAllowed() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AdminServer.start(connector, new AdminOptions("0.0.0.0", 0, Optional.empty(), false)));
        assertTrue(e.getMessage().contains("not a loopback address"), e.getMessage());
        admin = AdminServer.start(connector, new AdminOptions("0.0.0.0", 0, Optional.empty(), true));
        assertEquals(200, send("GET", "/health", null).statusCode());
        assertThrows(IllegalArgumentException.class, () -> new AdminOptions("127.0.0.1", 70000, Optional.empty(), false));
    }

    @Test
    void aFailureTheRoutesDoNotExpectIsAnswered500AndABadBodyIsNotSentBackWhole() throws Exception {
        KvConnector failing = (KvConnector) java.lang.reflect.Proxy.newProxyInstance(KvConnector.class.getClassLoader(),
                new Class<?>[] {KvConnector.class}, (proxy, method, args) -> {
                    if (method.getName().startsWith("lookup")) {
                        throw new java.io.UncheckedIOException(new IOException("disk gone"));
                    }
                    try {
                        return method.invoke(connector, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        admin = AdminServer.start(failing, AdminOptions.loopback());
        // regression: the client got no answer at all (the exchange was closed without a status)
        Reply r = send("POST", "/lookup", "{\"tokens\":[1,2,3]}");
        assertEquals(500, r.statusCode());
        assertTrue(r.body().contains("disk gone"), r.body());
        assertEquals(200, send("GET", "/health", null).statusCode(), "the endpoint still answers");

        String huge = "{\"tokens\":\"" + "x".repeat(100_000) + "\"}";
        Reply bad = send("POST", "/lookup", huge);
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().length() < 1_000 && bad.body().contains("100002 characters"), bad.body().length() + " characters");
    }

    @Test
    void requestsFromWebPagesOrForAnotherHostNameAreRefused() throws Exception {
        admin = AdminServer.start(connector, AdminOptions.loopback());
        String local = "127.0.0.1:" + admin.port();
        assertTrue(rawStatusLine("POST /clear", local, "Origin: https://evil.example").contains(" 403 "), "a web page's request");
        assertTrue(rawStatusLine("POST /clear", local, "Origin: not a url").contains(" 403 "));
        assertTrue(connector.lookup(tokens) > 0, "nothing was cleared");
        assertTrue(rawStatusLine("GET /health", "evil.example:" + admin.port(), null).contains(" 403 "),
                "a DNS name rebound to 127.0.0.1");
        assertTrue(rawStatusLine("GET /health", "localhost:" + admin.port(), null).contains(" 200 "));
        assertTrue(rawStatusLine("GET /health", "[::1]:" + admin.port(), null).contains(" 200 "));
        String ownName = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname")).strip();
        assertTrue(rawStatusLine("GET /health", ownName + ":" + admin.port(), null).contains(" 200 "), "this machine's own name");
        assertTrue(rawStatusLine("POST /clear", local, "Origin: http://localhost:3000").contains(" 200 "), "a local dashboard");
        assertEquals(200, send("GET", "/health", null).statusCode(), "a plain client: no Origin, Host 127.0.0.1:port");
    }

    /**
     * The status line of a request with this Host header and one more header line, or none (HTTP clients send neither
     * another Host than the URL's nor an Origin of one's choosing).
     */
    private String rawStatusLine(String requestLine, String host, String header) throws IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", admin.port())) {
            String request = requestLine + " HTTP/1.1\r\nHost: " + host + "\r\n" + (header == null ? "" : header + "\r\n")
                    + "Content-Length: 0\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            return new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void clientsThatStallMidRequestDoNotBlockOthers() throws Exception {
        admin = AdminServer.start(connector, AdminOptions.loopback());
        java.util.List<java.net.Socket> stalled = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) { // more than the endpoint's two threads of before
                java.net.Socket s = new java.net.Socket("127.0.0.1", admin.port());
                s.getOutputStream().write("GET /hea".getBytes(StandardCharsets.US_ASCII)); // and nothing more
                s.getOutputStream().flush();
                stalled.add(s);
            }
            Thread.sleep(200); // the server has taken them
            // regression: with every thread reading a stalled request, this waited for good
            java.util.concurrent.CompletableFuture<Integer> health = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return send("GET", "/health", null).statusCode();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(200, health.get(20, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            for (java.net.Socket s : stalled) {
                s.close();
            }
        }
    }

    @Test
    void tierNamesAreEscapedInTheMetricsText() {
        assertEquals("a\\\\b\\\"c\\nd", PrometheusText.label("a\\b\"c\nd"));
    }

    @Test
    void aClosedConnectorAnswers503() throws Exception {
        admin = AdminServer.start(connector, AdminOptions.loopback());
        connector.close();
        Reply r = send("GET", "/health", null);
        assertEquals(503, r.statusCode());
        assertTrue(r.body().contains("closed"), r.body());
    }

    @Test
    void metricValuesEqualTheOperationsPerformed() throws Exception {
        admin = AdminServer.start(connector, AdminOptions.loopback());
        HostKvMemory target = SeededKv.contiguous(arena, LAYOUT, tokens.length);
        connector.lookup(tokens);
        connector.lookup(java.util.Arrays.copyOf(tokens, 20));
        connector.retrieve(tokens, target, SeededKv.identitySlots(tokens.length));
        String text = send("GET", "/metrics", null).body();
        long chunkBytes = LAYOUT.chunkBytes(CHUNK);
        for (String line : new String[] {
            "lmcache_lookup_requests_total 2",
            "lmcache_lookup_tokens_total 73",
            "lmcache_lookup_hit_tokens_total 64",
            "lmcache_lookup_miss_tokens_total 9",
            "lmcache_stored_chunks_total 3",
            "lmcache_stored_bytes_total " + 3 * chunkBytes,
            "lmcache_store_skipped_chunks_total 0",
            "lmcache_retrieve_requests_total 1",
            "lmcache_retrieved_tokens_total{tier=\"cpu\"} 48",
            "lmcache_retrieved_bytes_total " + 48L * LAYOUT.bytesPerToken(),
            "lmcache_evicted_chunks_total 0",
            "lmcache_tier_chunks{tier=\"cpu\"} 3",
            "lmcache_tier_used_bytes{tier=\"cpu\"} " + 3 * chunkBytes,
            "lmcache_tier_healthy{tier=\"cpu\"} 1",
            "lmcache_operation_seconds_count{operation=\"lookup\"} 2",
            "lmcache_operation_seconds_count{operation=\"retrieve\"} 1",
            "lmcache_operation_seconds_count{operation=\"store\"} 0",
            "lmcache_operation_seconds_bucket{operation=\"lookup\",le=\"+Inf\"} 2",
        }) {
            assertTrue(text.contains("\n" + line + "\n"), "missing '" + line + "' in:\n" + text);
        }
    }
}
