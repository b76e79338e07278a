package org.lmcache4j.storage.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.foreign.Arena;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.SeededKv;

/** Micrometer meters equal the operations performed, exactly. */
class LmCacheMetricsTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 2, 8, KvDtype.FP16);
    private static final int CHUNK = 16;

    @Test
    void meterValuesEqualTheOperationsPerformed() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        long chunkBytes = LAYOUT.chunkBytes(CHUNK);
        try (Arena arena = Arena.ofShared();
             KvConnector connector = KvConnectors.open(LmCacheConfig.builder().modelId("metrics").chunkTokens(CHUNK)
                     .maxLocalCpuBytes(2 * chunkBytes).noLocalDisk().build(), LAYOUT);
             LmCacheMetrics metrics = new LmCacheMetrics(connector)) {
            metrics.bindTo(registry);
            int[] tokens = SeededKv.tokens(1, 3 * CHUNK + 5);
            HostKvMemory kv = SeededKv.contiguous(arena, LAYOUT, tokens.length);
            int[] slots = SeededKv.identitySlots(tokens.length);
            SeededKv.fill(kv, tokens, slots);
            connector.store(tokens, kv, slots);               // budget 2: chunks 0, 1 stored; 2 dropped (a store keeps its prefix)
            connector.lookup(tokens);                          // 32 hit
            int[] second = Arrays.copyOf(SeededKv.tokens(2, CHUNK), CHUNK);
            connector.store(second, kv, Arrays.copyOf(slots, CHUNK)); // 1 stored, chunk 0 of the first prompt evicted
            connector.lookup(second);                          // 16 hit
            connector.retrieve(second, kv, Arrays.copyOf(slots, CHUNK));

            assertEquals(2, registry.get("lmcache.lookup.requests").functionCounter().count());
            assertEquals(tokens.length + CHUNK, registry.get("lmcache.lookup.tokens").functionCounter().count());
            assertEquals(3 * CHUNK, registry.get("lmcache.lookup.hit.tokens").functionCounter().count());
            assertEquals(tokens.length + CHUNK - 3 * CHUNK, registry.get("lmcache.lookup.miss.tokens").functionCounter().count());
            assertEquals(3, registry.get("lmcache.stored.chunks").functionCounter().count());
            assertEquals(3 * chunkBytes, registry.get("lmcache.stored.bytes").functionCounter().count());
            assertEquals(1, registry.get("lmcache.store.dropped.chunks").functionCounter().count());
            assertEquals(1, registry.get("lmcache.evicted.chunks").functionCounter().count());
            // the first lookup ended at chunk 2, which its store dropped (no page left but its own prefix)
            assertEquals(1, registry.get("lmcache.miss.chunks").tag("reason", "pinned_full").tag("tier", "cpu")
                    .functionCounter().count());
            assertEquals(0, registry.get("lmcache.miss.chunks").tag("reason", "absent").tag("tier", "none")
                    .functionCounter().count());
            assertEquals(1, registry.get("lmcache.retrieve.requests").functionCounter().count());
            assertEquals(CHUNK, registry.get("lmcache.retrieved.tokens").tag("tier", "cpu").functionCounter().count());
            assertEquals(2, registry.get("lmcache.tier.chunks").tag("tier", "cpu").gauge().value());
            assertEquals(2 * chunkBytes, registry.get("lmcache.tier.used.bytes").tag("tier", "cpu").gauge().value());
            assertEquals(1, registry.get("lmcache.tier.healthy").tag("tier", "cpu").gauge().value());
            assertEquals(2, registry.get("lmcache.operation").tag("operation", "lookup").timer().count());
            assertEquals(2, registry.get("lmcache.operation").tag("operation", "store").timer().count());
            assertEquals(1, registry.get("lmcache.operation").tag("operation", "retrieve").timer().count());
            assertTrue(registry.get("lmcache.operation").tag("operation", "store").timer().totalTime(
                    java.util.concurrent.TimeUnit.NANOSECONDS) > 0);
        }
        assertTrue(Double.isNaN(registry.get("lmcache.lookup.requests").functionCounter().count())
                || registry.get("lmcache.lookup.requests").functionCounter().count() == 2,
                "a closed connector reads as NaN (or the last value), never throws");
    }

    @Test
    void boundToTwoRegistriesCloseStopsTheTimingOfBoth() {
        SimpleMeterRegistry first = new SimpleMeterRegistry();
        SimpleMeterRegistry second = new SimpleMeterRegistry();
        try (KvConnector connector = KvConnectors.open(LmCacheConfig.builder().modelId("metrics").chunkTokens(CHUNK)
                .maxLocalCpuBytes(2 * LAYOUT.chunkBytes(CHUNK)).noLocalDisk().build(), LAYOUT)) {
            LmCacheMetrics metrics = new LmCacheMetrics(connector);
            metrics.bindTo(first);
            metrics.bindTo(second);
            int[] tokens = SeededKv.tokens(1, CHUNK);
            connector.lookup(tokens);
            assertEquals(1, first.get("lmcache.operation").tag("operation", "lookup").timer().count());
            assertEquals(1, second.get("lmcache.operation").tag("operation", "lookup").timer().count());
            metrics.close();
            connector.lookup(tokens);
            // regression: the first registry's listener stayed subscribed, and its timer went on counting
            assertEquals(1, first.get("lmcache.operation").tag("operation", "lookup").timer().count());
            assertEquals(1, second.get("lmcache.operation").tag("operation", "lookup").timer().count());
        }
    }
}
