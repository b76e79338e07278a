package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.ChunkEvent;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.testing.HalfBytesTestCodec;
import org.lmcache4j.testing.SeededKv;

/**
 * KV a lossy codec stored is reported whenever a retrieve serves it: read from the lossy tier, and again from the
 * cpu tier it was promoted into (stats and {@code SERVED_LOSSY} events). That it never leaves the cpu tier for another
 * tier is in {@link DemotionTest}.
 */
class LossyServedTest {

    @TempDir
    Path dir;

    @Test
    void aLossyChunkIsReportedWhenServedFromItsTierAndAgainFromTheCpuTier() throws Exception {
        LmCacheConfig config = Engines.config().localDisk(dir).maxLocalDiskBytes(64 * CHUNK_BYTES)
                .diskCodec(HalfBytesTestCodec.NAME).build();
        int n = 2 * CHUNK;
        int[] tokens = SeededKv.tokens(4, n);
        int[] slots = SeededKv.identitySlots(n);
        try (Arena arena = Arena.ofShared()) {
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, n);
            SeededKv.fill(kv, tokens, slots);
            KvEventsTest.Recorder exact = new KvEventsTest.Recorder();
            try (TieredCacheEngine first = Engines.open(config)) {
                first.subscribe(exact);
                assertEquals(n, first.store(tokens, kv, slots));
                assertEquals(n, first.retrieve(tokens, SeededKv.contiguous(arena, SMALL, n), slots), "a cpu hit of the stored KV");
                assertEquals(List.of(0L, 0L), lossyServed(first.stats().tiers()), "the engine's own KV is exact");
            } // close drains the write-behind queue to disk
            assertFalse(exact.lines().stream().anyMatch(l -> l.startsWith("SERVED_LOSSY")), exact.lines().toString());

            KvEventsTest.Recorder recorder = new KvEventsTest.Recorder();
            try (TieredCacheEngine second = Engines.open(config)) {
                second.subscribe(recorder);
                HostKvMemory fromDisk = SeededKv.contiguous(arena, SMALL, n);
                assertEquals(n, second.retrieve(tokens, fromDisk, slots));
                assertEquals(List.of(0L, 2L), lossyServed(second.stats().tiers()), "cpu, disk");
                assertEquals(List.of("SERVED_LOSSY disk 0-" + CHUNK, "SERVED_LOSSY disk " + CHUNK + "-" + n), served(recorder));

                HostKvMemory fromCpu = SeededKv.contiguous(arena, SMALL, n);
                assertEquals(n, second.retrieve(tokens, fromCpu, slots));
                assertEquals(2, second.stats().promotedChunks(), "the second retrieve hit the cpu tier");
                assertEquals(List.of(2L, 2L), lossyServed(second.stats().tiers()), "cpu, disk");
                assertEquals(List.of("SERVED_LOSSY disk 0-" + CHUNK, "SERVED_LOSSY disk " + CHUNK + "-" + n,
                        "SERVED_LOSSY cpu 0-" + CHUNK, "SERVED_LOSSY cpu " + CHUNK + "-" + n), served(recorder));
                SeededKv.assertSameKv(fromDisk, slots, fromCpu, slots, 0, n);
                assertTrue(recorder.events.stream().filter(e -> e.type() == ChunkEvent.Type.SERVED_LOSSY)
                        .allMatch(e -> e.key() != null && e.parent().isEmpty()), recorder.events.toString());
            }
        }
    }

    private static List<Long> lossyServed(List<TierStats> tiers) {
        return tiers.stream().map(TierStats::lossyChunksServed).toList();
    }

    private static List<String> served(KvEventsTest.Recorder recorder) {
        return recorder.lines().stream().filter(l -> l.startsWith("SERVED_LOSSY")).toList();
    }
}
