package org.lmcache4j.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;

/** The workload driver counts hits exactly and the KV it gets back is the KV the prompt has. */
class WorkloadRunnerTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 2, 16, KvDtype.BF16);

    private static KvConnector connector() {
        return KvConnectors.open(LmCacheConfig.builder().modelId("workload-test").noLocalDisk()
                .maxLocalCpuBytes(64L << 20).build(), LAYOUT);
    }

    @Test
    void documentQaHitsEveryRepeatedDocumentExactly() {
        Workload w = Workloads.documentQa(1, 2, 1000, 3, 50);
        try (KvConnector c = connector()) {
            WorkloadRunner.Result r = WorkloadRunner.run(w, c, new SyntheticPrefill(1000), LAYOUT, done -> { });
            assertEquals(6, r.requests());
            assertEquals(4 * 768, r.hitTokens(), "the first ask of each document misses; the next four hit 3 chunks");
            assertEquals(4L * 768, r.hitTokensByTier().get("cpu"));
            WorkloadRunner.Result none = WorkloadRunner.run(w, null, new SyntheticPrefill(1000), LAYOUT, done -> { });
            assertEquals(0, none.hitTokens());
            assertTrue(r.meanTtftMs() < none.meanTtftMs(), r.meanTtftMs() + " vs " + none.meanTtftMs());
        }
    }

    @Test
    void retrievedKvEqualsRecomputedKv() {
        Workload w = Workloads.multiRoundQa(2, 2, 3, 300, 40, 60);
        SyntheticPrefill prefill = new SyntheticPrefill(1000);
        try (KvConnector c = connector(); Arena arena = Arena.ofConfined()) {
            WorkloadRunner.run(w, c, prefill, LAYOUT, done -> { });
            int[] last = w.requests().getLast();
            int[] slots = new int[last.length];
            Arrays.setAll(slots, i -> i);
            HostKvMemory fromCache = WorkloadRunner.engineMemory(arena, LAYOUT, last.length);
            HostKvMemory recomputed = WorkloadRunner.engineMemory(arena, LAYOUT, last.length);
            int got = c.retrieve(last, fromCache, slots);
            assertTrue(got >= 256, "the history is cached: " + got);
            prefill.prefill(last, 0, recomputed, slots);
            long bytes = (long) got * LAYOUT.rowBytes();
            for (int layer = 0; layer < LAYOUT.numLayers(); layer++) {
                for (int plane = 0; plane < 2; plane++) {
                    assertEquals(-1, fromCache.plane(layer, plane).asSlice(0, bytes)
                            .mismatch(recomputed.plane(layer, plane).asSlice(0, bytes)), "layer " + layer + " plane " + plane);
                }
            }
            assertTrue(fromCache.plane(0, 0).get(ValueLayout.JAVA_LONG_UNALIGNED, 0) != 0);
        }
    }

    @Test
    void missOnlyNeverHits() {
        try (KvConnector c = connector()) {
            WorkloadRunner.Result r = WorkloadRunner.run(Workloads.missOnly(3, 5, 600), c, new SyntheticPrefill(1000), LAYOUT,
                    done -> { });
            assertEquals(0, r.hitTokens());
            assertEquals(5 * 512L * LAYOUT.bytesPerToken(), r.bytesStored());
        }
    }

    @Test
    void aStandInForTheDeviceIsChargedItsComputeNotTheTimeItsWritesTake() {
        Workload w = Workloads.missOnly(4, 2, 300);
        WorkloadRunner.Result standIn = WorkloadRunner.run(w, null, new SlowPrefill(false), LAYOUT, done -> { });
        WorkloadRunner.Result engine = WorkloadRunner.run(w, null, new SlowPrefill(true), LAYOUT, done -> { });
        for (int i = 0; i < 2; i++) {
            assertTrue(standIn.ttftMs()[i] < SlowPrefill.SLEEP_MS / 2.0, "request " + i + ": " + standIn.ttftMs()[i] + " ms");
            assertTrue(engine.ttftMs()[i] >= SlowPrefill.SLEEP_MS, "request " + i + ": " + engine.ttftMs()[i] + " ms");
        }
        assertTrue(standIn.wallSeconds() < SlowPrefill.SLEEP_MS / 1000.0, standIn.wallSeconds() + " s for two requests");
        assertTrue(engine.wallSeconds() >= 2 * SlowPrefill.SLEEP_MS / 1000.0, engine.wallSeconds() + " s for two requests");
    }

    /** Takes {@link #SLEEP_MS} per call and charges 1 ms of device time. */
    private record SlowPrefill(boolean countsItsOwnTime) implements Prefill {

        static final long SLEEP_MS = 400;

        @Override
        public long prefill(int[] tokens, int from, HostKvMemory kv, int[] slots) {
            try {
                Thread.sleep(SLEEP_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return chargedNanos(tokens.length, from);
        }

        @Override
        public long chargedNanos(int tokens, int from) {
            return 1_000_000;
        }
    }
}
