package org.lmcache4j.examples.jlama;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The results of {@code bin/lmcache jlama-demo}: TTFT per request, the checks, and the JSON written by
 * {@code --json}. {@code tokens_identical}: the greedy tokens of the cached request and of the fresh JVM
 * equal those of Jlama without the cache. {@code prefix_kv_identical}: the prefix KV Jlama holds after each
 * retrieve (cache and restart) equals, byte for byte (SHA-256 of every row), the KV Jlama computed for that
 * prefix in the cold request.
 */
record JlamaDemoResult(JlamaDemoOptions options, int promptTokens, Completion noCache, Completion cold,
                       Completion cached, String cachedTier, JlamaRestartChild.Report restart, String stats,
                       double wallSeconds) {

    static final String JLAMA_VERSION = "0.8.4";

    boolean tokensIdentical() {
        return noCache.text().equals(cached.text()) && noCache.text().equals(restart.completion().text());
    }

    boolean prefixKvIdentical() {
        String computed = cold.kvDigest();
        return computed != null && computed.equals(cached.kvDigest()) && computed.equals(restart.completion().kvDigest());
    }

    /** Tokens and KV identical, and both cached requests retrieved the prefix: what the exit code says. */
    boolean checksPassed() {
        return tokensIdentical() && prefixKvIdentical() && cached.prefill().retrievedTokens() > 0
                && restart.completion().prefill().retrievedTokens() > 0;
    }

    double speedupCache() {
        return (double) noCache.ttftNanos() / cached.ttftNanos();
    }

    double speedupRestart() {
        return (double) noCache.ttftNanos() / restart.completion().ttftNanos();
    }

    /** The JSON fields, in order. */
    Map<String, Object> fields() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("engine", "jlama " + JLAMA_VERSION);
        f.put("model", options.shape().name());
        f.put("seed", options.seed());
        f.put("prompt_tokens", promptTokens);
        f.put("prefix_tokens", options.prefixTokens());
        f.put("new_tokens", options.newTokens());
        f.put("ttft_ms_no_cache", ms(noCache.ttftNanos()));
        f.put("ttft_ms_cold", ms(cold.ttftNanos()));
        f.put("ttft_ms_cache", ms(cached.ttftNanos()));
        f.put("ttft_ms_restart", ms(restart.completion().ttftNanos()));
        f.put("speedup_cache", round(speedupCache()));
        f.put("speedup_restart", round(speedupRestart()));
        f.put("tokens_identical", tokensIdentical());
        f.put("prefix_kv_identical", prefixKvIdentical());
        f.put("retrieved_tokens_cache", cached.prefill().retrievedTokens());
        f.put("retrieved_tokens_restart", restart.completion().prefill().retrievedTokens());
        f.put("hit_tier_cache", cachedTier);
        f.put("hit_tier_restart", restart.hitTier());
        f.put("retrieve_ms_cache", ms(cached.prefill().retrieveNanos()));
        f.put("retrieve_ms_restart", ms(restart.completion().prefill().retrieveNanos()));
        f.put("compute_ms_cache", ms(cached.prefill().computeNanos()));
        f.put("compute_ms_restart", ms(restart.completion().prefill().computeNanos()));
        f.put("store_ms_cold", ms(cold.prefill().storeNanos()));
        f.put("kv_bytes_retrieved", (long) cached.prefill().retrievedTokens() * SeededJlama.layout(options.shape()).bytesPerToken());
        f.put("staging_copy", false);
        f.put("page_cache_dropped_before_restart", options.dropPageCache());
        f.put("connector_stats", stats);
        f.put("connector_stats_restart", restart.stats());
        f.put("wall_seconds", round(wallSeconds));
        return f;
    }

    String json() {
        StringBuilder b = new StringBuilder("{\n");
        Map<String, Object> fields = fields();
        int i = 0;
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            Object v = e.getValue();
            String value = v instanceof String s ? "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"" : String.valueOf(v);
            b.append("  \"").append(e.getKey()).append("\": ").append(value).append(++i < fields.size() ? ",\n" : "\n");
        }
        return b.append("}\n").toString();
    }

    String table() {
        String row = "%-10s %12s %9s %10s  %s%n";
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, row, "request", "TTFT ms", "speedup", "retrieved", "from"));
        b.append(line(row, "no cache", noCache, Double.NaN, "-"));
        b.append(line(row, "cold", cold, (double) noCache.ttftNanos() / cold.ttftNanos(), "-"));
        b.append(line(row, "cache", cached, speedupCache(), cachedTier));
        b.append(line(row, "restart", restart.completion(), speedupRestart(), restart.hitTier() + ", fresh JVM"));
        b.append(String.format(Locale.ROOT, "tokens identical: %s   prefix KV identical: %s%n", tokensIdentical(),
                prefixKvIdentical()));
        b.append("connector: ").append(stats).append('\n');
        b.append("connector in the fresh JVM: ").append(restart.stats()).append('\n');
        return b.toString();
    }

    private static String line(String row, String name, Completion c, double speedup, String from) {
        return String.format(Locale.ROOT, row, name, String.format(Locale.ROOT, "%,.0f", c.ttftNanos() / 1e6),
                Double.isNaN(speedup) ? "1.0x" : String.format(Locale.ROOT, "%.1fx", speedup),
                c.prefill() == null ? "-" : String.format(Locale.ROOT, "%,d", c.prefill().retrievedTokens()), from);
    }

    private static double ms(long nanos) {
        return round(nanos / 1e6);
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
