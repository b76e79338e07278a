package org.lmcache4j.storage.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.MissCount;
import org.lmcache4j.api.MissReason;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvEventListener;
import org.lmcache4j.api.TierStats;

/**
 * Binds a connector's metrics to a Micrometer registry: counters and gauges read from
 * {@link KvConnector#stats()} when scraped, and latency timers (with percentile histograms) fed by the
 * connector's operation timings. The names render in Prometheus exactly as the README's metrics table
 * (and the admin endpoint's {@code /metrics}) give them. Micrometer is an optional dependency: only
 * this package needs it. Close the binder to stop timing.
 *
 * <pre>
 * try (LmCacheMetrics metrics = new LmCacheMetrics(connector)) {
 *     metrics.bindTo(registry);
 *     ...
 * }
 * </pre>
 */
@SuppressWarnings("exports") // Micrometer types appear in the signature by design; Micrometer is optional (requires static)
public final class LmCacheMetrics implements MeterBinder, AutoCloseable {

    /** How long one stats snapshot serves the meters of a scrape. */
    static final long SNAPSHOT_MAX_AGE_MILLIS = 1000;

    private final KvConnector connector;
    private volatile Snapshot snapshot;
    private final List<AutoCloseable> subscriptions = new ArrayList<>(); // one per registry bound; guarded by this

    public LmCacheMetrics(KvConnector connector) {
        if (connector == null) {
            throw new IllegalArgumentException("connector: null (expected: an open KvConnector)");
        }
        this.connector = connector;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        counter(registry, "lmcache.lookup.requests", "Lookup calls.", CacheStats::lookups);
        counter(registry, "lmcache.lookup.tokens", "Tokens asked about by lookups.", CacheStats::lookupTokens);
        counter(registry, "lmcache.lookup.hit.tokens", "Prefix tokens found by lookups.", CacheStats::lookupHitTokens);
        counter(registry, "lmcache.lookup.miss.tokens", "Tokens lookups did not find.", s -> s.lookupTokens() - s.lookupHitTokens());
        counter(registry, "lmcache.stored.chunks", "Chunks copied into the cache.", CacheStats::storedChunks);
        counter(registry, "lmcache.stored.bytes", "Bytes copied into the cache.", CacheStats::storedBytes);
        counter(registry, "lmcache.store.skipped.chunks", "Chunks a store found already stored.", CacheStats::storeSkippedChunks);
        counter(registry, "lmcache.store.dropped.chunks", "Chunks a store could not place.", CacheStats::storeDroppedChunks);
        counter(registry, "lmcache.retrieve.requests", "Retrieve calls.", CacheStats::retrieves);
        counter(registry, "lmcache.retrieved.bytes", "Bytes copied into engine memory.", CacheStats::retrievedBytes);
        counter(registry, "lmcache.evicted.chunks", "Chunks evicted from the cpu tier.", CacheStats::evictedChunks);
        counter(registry, "lmcache.promoted.chunks", "Chunks copied up into the cpu tier.", CacheStats::promotedChunks);
        counter(registry, "lmcache.demoted.chunks", "Evicted chunks kept in a slower tier.", CacheStats::demotedChunks);
        counter(registry, "lmcache.write.behind.dropped", "Chunks not written behind because a queue was full.",
                CacheStats::writeBehindDropped);
        counter(registry, "lmcache.deadline.cuts", "Calls that left out cached chunks to meet a deadline.", CacheStats::deadlineCuts);
        Gauge.builder("lmcache.write.behind.queued", this, m -> m.read(CacheStats::writeBehindQueued))
                .description("Chunks waiting to be written behind.").register(registry);
        for (TierStats tier : connector.stats().tiers()) {
            String name = tier.name();
            FunctionCounter.builder("lmcache.retrieved.tokens", this,
                            m -> m.read(s -> s.retrievedTokensByTier().getOrDefault(name, 0L)))
                    .description("Tokens copied into engine memory, by the tier they came from.").tag("tier", name)
                    .register(registry);
            FunctionCounter.builder("lmcache.tier.errors", this, m -> m.readTier(name, TierStats::errors))
                    .description("Tier failures turned into misses.").tag("tier", name).register(registry);
            FunctionCounter.builder("lmcache.tier.lossy.chunks.served", this, m -> m.readTier(name, TierStats::lossyChunksServed))
                    .description("Chunks a tier served that a lossy codec (int8, fp8-e4m3) had stored.").tag("tier", name)
                    .register(registry);
            tierGauge(registry, "lmcache.tier.used.bytes", "Bytes held by a tier.", name, TierStats::usedBytes);
            tierGauge(registry, "lmcache.tier.capacity.bytes", "A tier's byte budget.", name, TierStats::capacityBytes);
            tierGauge(registry, "lmcache.tier.chunks", "Chunks held by a tier.", name, TierStats::chunks);
            tierGauge(registry, "lmcache.tier.healthy", "1 while a tier works, 0 while it fails.", name, t -> t.healthy() ? 1 : 0);
        }
        List<String> missTiers = new ArrayList<>(connector.stats().tiers().stream().map(TierStats::name).toList());
        missTiers.add(MissCount.NO_TIER);
        for (MissReason reason : MissReason.values()) {
            if (reason == MissReason.AFTER_MISS) {
                continue; // explanations only, never counted
            }
            for (String tier : missTiers) {
                FunctionCounter.builder("lmcache.miss.chunks", this, m -> m.read(s -> s.missChunks(reason, tier)))
                        .description("Chunks that ended a lookup's or retrieve's prefix, by reason and tier.")
                        .tag("reason", reason.label()).tag("tier", tier).register(registry);
            }
        }
        Map<KvEventListener.Operation, Timer> timers = new EnumMap<>(KvEventListener.Operation.class);
        for (KvEventListener.Operation op : KvEventListener.Operation.values()) {
            timers.put(op, Timer.builder("lmcache.operation").description("Latency of connector calls.")
                    .tag("operation", op.name().toLowerCase(Locale.ROOT)).publishPercentileHistogram().register(registry));
        }
        AutoCloseable subscription = connector.subscribe(new KvEventListener() {
            @Override
            public void onOperation(Operation operation, long nanos, int tokens, int hitTokens) {
                timers.get(operation).record(nanos, TimeUnit.NANOSECONDS);
            }
        });
        synchronized (this) {
            subscriptions.add(subscription); // bound to a second registry: close ends the timing of both
        }
    }

    private void counter(MeterRegistry registry, String name, String help, java.util.function.ToLongFunction<CacheStats> value) {
        FunctionCounter.builder(name, this, m -> m.read(value)).description(help).register(registry);
    }

    private void tierGauge(MeterRegistry registry, String name, String help, String tier, ToDoubleFunction<TierStats> value) {
        Gauge.builder(name, this, m -> m.readTier(tier, value)).description(help).tag("tier", tier).register(registry);
    }

    private double read(java.util.function.ToLongFunction<CacheStats> value) {
        try {
            return value.applyAsLong(stats());
        } catch (IllegalStateException closed) {
            return Double.NaN;
        }
    }

    private double readTier(String tier, ToDoubleFunction<TierStats> value) {
        try {
            return stats().tiers().stream().filter(t -> t.name().equals(tier)).findFirst()
                    .map(value::applyAsDouble).orElse(Double.NaN);
        } catch (IllegalStateException closed) {
            return Double.NaN;
        }
    }

    /**
     * One stats snapshot per scrape: a registry reads every meter in turn, and each fresh {@code stats()}
     * may cost a round trip to a remote tier; a snapshot younger than {@value #SNAPSHOT_MAX_AGE_MILLIS} ms
     * is reused.
     */
    private CacheStats stats() {
        Snapshot s = snapshot;
        if (s == null || System.nanoTime() - s.takenNanos() > SNAPSHOT_MAX_AGE_MILLIS * 1_000_000L) {
            // aged from when the stats arrived: a slow answer must not leave the rest of the scrape to ask again
            s = new Snapshot(connector.stats(), System.nanoTime());
            snapshot = s;
        }
        return s.stats();
    }

    private record Snapshot(CacheStats stats, long takenNanos) {
    }

    /** Stops feeding the timers of every registry this was bound to; idempotent. */
    @Override
    public void close() {
        List<AutoCloseable> ending;
        synchronized (this) {
            ending = List.copyOf(subscriptions);
            subscriptions.clear();
        }
        Exception failed = null;
        for (AutoCloseable s : ending) {
            try {
                s.close();
            } catch (Exception e) {
                failed = failed == null ? e : failed;
            }
        }
        if (failed != null) {
            throw new IllegalStateException("unsubscribing the metrics listener failed", failed);
        }
    }
}
