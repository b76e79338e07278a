package org.lmcache4j.storage.admin;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.ChunkExplanation;
import org.lmcache4j.api.LookupExplanation;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.PrefixPin;
import org.lmcache4j.api.TierStats;

/**
 * The admin endpoint's requests, one method each, free of HTTP details (so they are easy to test).
 *
 * <p>The pins taken by {@code /pin} wait for their {@code /unpin} in a bounded table: past
 * {@link #MAX_PINS}, or after {@link #PIN_HOLD} (longer than any pin lasts in the connector), a pin leaves
 * the table and is closed, and its id gets the same 404 as an id already unpinned.
 */
final class AdminRoutes implements AutoCloseable {

    /** Pins held at most for callers that have not unpinned them. */
    static final int MAX_PINS = 10_000;
    /** How long a pin stays in the table without its {@code /unpin}: a connector's pin has lapsed by then. */
    static final Duration PIN_HOLD = Duration.ofDays(1);

    /** A response: status, content type and body. */
    record Response(int status, String contentType, String body) {

        static Response json(int status, Object value) {
            return new Response(status, "application/json", Json.write(value));
        }

        static Response error(int status, String message) {
            return json(status, Map.of("error", message));
        }
    }

    private final KvConnector connector;
    private final LatencyHistograms latencies;
    private final Cache<String, PrefixPin> pins;
    private final AtomicLong pinIds = new AtomicLong();

    AdminRoutes(KvConnector connector, LatencyHistograms latencies) {
        this(connector, latencies, MAX_PINS, PIN_HOLD, Ticker.systemTicker());
    }

    /**
     * @param maxPins pins held at most
     * @param hold    how long a pin is held without its {@code /unpin}
     * @param ticker  time source of {@code hold} (tests move it)
     */
    AdminRoutes(KvConnector connector, LatencyHistograms latencies, int maxPins, Duration hold, Ticker ticker) {
        this.connector = connector;
        this.latencies = latencies;
        // the listener runs on the thread that removed the pin (no pool thread calls into the connector)
        this.pins = Caffeine.newBuilder().maximumSize(maxPins).expireAfterWrite(hold).ticker(ticker)
                .executor(Runnable::run).removalListener((String id, PrefixPin pin, RemovalCause cause) -> {
                    if (pin != null) {
                        pin.close();
                    }
                }).build();
    }

    Response route(String method, String path, String body) {
        return route(method, path, null, body);
    }

    /** @param query the raw query string, or null; only {@code /lookup} takes one ({@code explain=true}) */
    Response route(String method, String path, String query, String body) {
        try {
            return switch (path) {
                case "/health" -> get(method, this::health);
                case "/metrics" -> get(method, this::metrics);
                case "/lookup" -> post(method, () -> lookup(body, explainWanted(query)));
                case "/pin" -> post(method, () -> pin(body));
                case "/unpin" -> post(method, () -> unpin(body));
                case "/clear" -> post(method, this::clear);
                default -> Response.error(404, "no such endpoint: " + path
                        + " (expected: /health, /metrics, /lookup, /pin, /unpin, /clear)");
            };
        } catch (IllegalArgumentException e) {
            return Response.error(400, e.getMessage());
        } catch (IllegalStateException e) {
            return Response.error(503, e.getMessage());
        }
    }

    private static Response get(String method, java.util.function.Supplier<Response> handler) {
        return "GET".equals(method) ? handler.get() : Response.error(405, method + " (expected: GET)");
    }

    private static Response post(String method, java.util.function.Supplier<Response> handler) {
        return "POST".equals(method) ? handler.get() : Response.error(405, method + " (expected: POST)");
    }

    private Response health() {
        CacheStats s = connector.stats();
        List<Map<String, Object>> tiers = new ArrayList<>();
        for (TierStats t : s.tiers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            m.put("healthy", t.healthy());
            m.put("chunks", t.chunks());
            m.put("used_bytes", t.usedBytes());
            m.put("capacity_bytes", t.capacityBytes());
            m.put("errors", t.errors());
            m.put("lossy_chunks_served", t.lossyChunksServed());
            tiers.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("healthy", s.healthy());
        out.put("tiers", tiers);
        return Response.json(s.healthy() ? 200 : 503, out);
    }

    private Response metrics() {
        return new Response(200, "text/plain; version=0.0.4; charset=utf-8", PrometheusText.render(connector.stats(), latencies));
    }

    private Response lookup(String body, boolean explain) {
        int[] tokens = tokens(body);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("tokens", tokens.length);
        if (!explain) {
            out.put("hit_tokens", connector.lookup(tokens));
            out.put("by_tier", connector.lookupByTier(tokens));
            return Response.json(200, out);
        }
        // explain moves no data and changes no counter: the lookup it reports is its own walk, not a counted lookup
        LookupExplanation explanation = connector.explain(tokens);
        out.put("hit_tokens", explanation.hitTokens());
        out.put("by_tier", connector.lookupByTier(tokens));
        List<Map<String, Object>> chunks = new ArrayList<>();
        for (ChunkExplanation c : explanation.chunks()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", c.index());
            m.put("start", c.start());
            m.put("end", c.end());
            m.put("key", c.key().toString());
            m.put("hit", c.hit());
            m.put("tier", c.tier());
            c.reason().ifPresent(r -> m.put("reason", r.label()));
            m.put("detail", c.detail());
            chunks.add(m);
        }
        out.put("chunks", chunks);
        return Response.json(200, out);
    }

    /** True for {@code explain=true} (or {@code explain}, {@code explain=1}); other parameters are ignored. */
    static boolean explainWanted(String query) {
        if (query == null || query.isEmpty()) {
            return false;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            if (name.equals("explain")) {
                String value = eq < 0 ? "true" : pair.substring(eq + 1);
                return switch (value) {
                    case "true", "1" -> true;
                    case "false", "0" -> false;
                    default -> throw new IllegalArgumentException("explain: '" + value + "' (expected: true or false)");
                };
            }
        }
        return false;
    }

    private Response pin(String body) {
        int[] tokens = tokens(body);
        PrefixPin pin = connector.lookupAndPin(tokens);
        String id = "pin-" + pinIds.incrementAndGet();
        pins.put(id, pin);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pin_id", id);
        out.put("hit_tokens", pin.tokens());
        return Response.json(200, out);
    }

    private Response unpin(String body) {
        Object id = object(body).get("pin_id");
        if (!(id instanceof String pinId)) {
            throw new IllegalArgumentException("pin_id: " + brief(id) + " (expected: the string a /pin call returned)");
        }
        PrefixPin pin = pins.asMap().remove(pinId);
        if (pin == null) {
            return Response.error(404, "pin_id: " + pinId + " (expected: a pin that is still held)");
        }
        pin.close(); // the removal listener has closed it too; a second close is harmless
        return Response.json(200, Map.of("unpinned", true));
    }

    private Response clear() {
        connector.clear();
        return Response.json(200, Map.of("cleared", true));
    }

    /** The {@code tokens} array of a JSON object body, each a token id from 0 to 2^31-1. */
    static int[] tokens(String body) {
        Object field = object(body).get("tokens");
        if (!(field instanceof List<?> list)) {
            throw new IllegalArgumentException("tokens: " + brief(field) + " (expected: an array of token ids)");
        }
        int[] tokens = new int[list.size()];
        for (int i = 0; i < tokens.length; i++) {
            Object v = list.get(i);
            if (!(v instanceof Long id) || id < 0 || id > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("tokens[" + i + "]: " + brief(v)
                        + " (expected: a token id, an integer from 0 to 2147483647)");
            }
            tokens[i] = (int) (long) id;
        }
        return tokens;
    }

    /** A value as JSON for an error message, cut to {@value #BRIEF_CHARS} characters: a bad body is not sent back whole. */
    static String brief(Object value) {
        String json = Json.write(value);
        return json.length() <= BRIEF_CHARS ? json : json.substring(0, BRIEF_CHARS) + "... (" + json.length() + " characters)";
    }

    private static final int BRIEF_CHARS = 200;

    private static Map<?, ?> object(String body) {
        if (body == null || body.isBlank()) {
            throw new IllegalArgumentException("request body: empty (expected: a JSON object)");
        }
        Object parsed = Json.parse(body);
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("request body: " + brief(parsed) + " (expected: a JSON object)");
        }
        return map;
    }

    /** Pins held now, after dropping those past their hold. */
    long heldPins() {
        pins.cleanUp();
        return pins.estimatedSize();
    }

    /** Ends every pin still held. */
    @Override
    public void close() {
        pins.invalidateAll(); // the removal listener closes each
    }
}
