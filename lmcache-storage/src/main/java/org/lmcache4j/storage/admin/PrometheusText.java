package org.lmcache4j.storage.admin;

import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.TierStats;

/**
 * Renders a connector's {@link CacheStats} in the Prometheus text exposition format (version 0.0.4).
 * The names are the ones the README's metrics table documents; the Micrometer binder uses the same.
 */
final class PrometheusText {

    private PrometheusText() {
    }

    static String render(CacheStats s, LatencyHistograms latencies) {
        StringBuilder out = new StringBuilder(4096);
        counter(out, "lmcache_lookup_requests_total", "Lookup calls.", s.lookups());
        counter(out, "lmcache_lookup_tokens_total", "Tokens asked about by lookups.", s.lookupTokens());
        counter(out, "lmcache_lookup_hit_tokens_total", "Prefix tokens found by lookups.", s.lookupHitTokens());
        counter(out, "lmcache_lookup_miss_tokens_total", "Tokens lookups did not find.", s.lookupTokens() - s.lookupHitTokens());
        counter(out, "lmcache_stored_chunks_total", "Chunks copied into the cache.", s.storedChunks());
        counter(out, "lmcache_stored_bytes_total", "Bytes copied into the cache.", s.storedBytes());
        counter(out, "lmcache_store_skipped_chunks_total", "Chunks a store found already stored.", s.storeSkippedChunks());
        counter(out, "lmcache_store_dropped_chunks_total", "Chunks a store could not place.", s.storeDroppedChunks());
        counter(out, "lmcache_retrieve_requests_total", "Retrieve calls.", s.retrieves());
        header(out, "lmcache_retrieved_tokens_total", "Tokens copied into engine memory, by the tier they came from.", "counter");
        s.retrievedTokensByTier().forEach((tier, n) -> sample(out, "lmcache_retrieved_tokens_total", tier, n));
        counter(out, "lmcache_retrieved_bytes_total", "Bytes copied into engine memory.", s.retrievedBytes());
        counter(out, "lmcache_evicted_chunks_total", "Chunks evicted from the cpu tier.", s.evictedChunks());
        counter(out, "lmcache_promoted_chunks_total", "Chunks copied up into the cpu tier.", s.promotedChunks());
        counter(out, "lmcache_demoted_chunks_total", "Evicted chunks kept in a slower tier.", s.demotedChunks());
        counter(out, "lmcache_write_behind_dropped_total", "Chunks not written behind because a queue was full.", s.writeBehindDropped());
        gauge(out, "lmcache_write_behind_queued", "Chunks waiting to be written behind.", s.writeBehindQueued());
        counter(out, "lmcache_deadline_cuts_total", "Calls that left out cached chunks to meet a deadline.", s.deadlineCuts());
        header(out, "lmcache_miss_chunks_total", "Chunks that ended a lookup's or retrieve's prefix, by reason and tier.", "counter");
        s.misses().forEach(m -> out.append("lmcache_miss_chunks_total{reason=\"").append(m.reason().label())
                .append("\",tier=\"").append(label(m.tier())).append("\"} ").append(m.chunks()).append('\n'));
        header(out, "lmcache_tier_errors_total", "Tier failures turned into misses (disk: corrupt files included).", "counter");
        s.tiers().forEach(t -> sample(out, "lmcache_tier_errors_total", t.name(), t.errors()));
        header(out, "lmcache_tier_lossy_chunks_served_total", "Chunks a tier served that a lossy codec (int8, fp8-e4m3) had stored.",
                "counter");
        s.tiers().forEach(t -> sample(out, "lmcache_tier_lossy_chunks_served_total", t.name(), t.lossyChunksServed()));
        tierGauge(out, s, "lmcache_tier_used_bytes", "Bytes held by a tier.", TierStats::usedBytes);
        tierGauge(out, s, "lmcache_tier_capacity_bytes", "A tier's byte budget.", TierStats::capacityBytes);
        tierGauge(out, s, "lmcache_tier_chunks", "Chunks held by a tier.", TierStats::chunks);
        tierGauge(out, s, "lmcache_tier_healthy", "1 while a tier works, 0 while it fails.", t -> t.healthy() ? 1 : 0);
        latencies.render(out);
        return out.toString();
    }

    private static void tierGauge(StringBuilder out, CacheStats s, String name, String help,
                                  java.util.function.ToLongFunction<TierStats> value) {
        header(out, name, help, "gauge");
        s.tiers().forEach(t -> sample(out, name, t.name(), value.applyAsLong(t)));
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        header(out, name, help, "counter");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        header(out, name, help, "gauge");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void header(StringBuilder out, String name, String help, String type) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String tier, long value) {
        out.append(name).append("{tier=\"").append(label(tier)).append("\"} ").append(value).append('\n');
    }

    /** A label value as the text format writes it: backslash, double quote and line feed escaped (tier names come from tier modules). */
    static String label(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
