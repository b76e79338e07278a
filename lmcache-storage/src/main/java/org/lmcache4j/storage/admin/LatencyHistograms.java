package org.lmcache4j.storage.admin;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.lmcache4j.api.KvEventListener;

/**
 * Latency histograms of lookup, store and retrieve with fixed buckets (100 us to 10 s), fed by the
 * connector's operation timings and rendered in Prometheus' histogram format.
 */
final class LatencyHistograms implements KvEventListener {

    /** Upper bounds of the buckets in seconds; +Inf is implied. */
    static final double[] BUCKETS_SECONDS = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};

    private record Histogram(AtomicLongArray counts, LongAdder sumNanos, LongAdder count) {
    }

    private final Map<Operation, Histogram> byOperation = new EnumMap<>(Operation.class);

    LatencyHistograms() {
        for (Operation op : Operation.values()) {
            byOperation.put(op, new Histogram(new AtomicLongArray(BUCKETS_SECONDS.length), new LongAdder(), new LongAdder()));
        }
    }

    @Override
    public void onOperation(Operation operation, long nanos, int tokens, int hitTokens) {
        Histogram h = byOperation.get(operation);
        double seconds = nanos / 1e9;
        for (int i = 0; i < BUCKETS_SECONDS.length; i++) {
            if (seconds <= BUCKETS_SECONDS[i]) {
                h.counts().incrementAndGet(i);
                break;
            }
        }
        h.sumNanos().add(nanos);
        h.count().increment();
    }

    /** Appends {@code lmcache_operation_seconds} in Prometheus text format. */
    void render(StringBuilder out) {
        out.append("# HELP lmcache_operation_seconds Latency of connector calls.\n");
        out.append("# TYPE lmcache_operation_seconds histogram\n");
        for (Map.Entry<Operation, Histogram> e : byOperation.entrySet()) {
            String op = e.getKey().name().toLowerCase(java.util.Locale.ROOT);
            Histogram h = e.getValue();
            long cumulative = 0;
            for (int i = 0; i < BUCKETS_SECONDS.length; i++) {
                cumulative += h.counts().get(i);
                out.append("lmcache_operation_seconds_bucket{operation=\"").append(op).append("\",le=\"")
                        .append(BUCKETS_SECONDS[i]).append("\"} ").append(cumulative).append('\n');
            }
            long count = h.count().sum();
            out.append("lmcache_operation_seconds_bucket{operation=\"").append(op).append("\",le=\"+Inf\"} ").append(count).append('\n');
            out.append("lmcache_operation_seconds_sum{operation=\"").append(op).append("\"} ").append(h.sumNanos().sum() / 1e9).append('\n');
            out.append("lmcache_operation_seconds_count{operation=\"").append(op).append("\"} ").append(count).append('\n');
        }
    }
}
