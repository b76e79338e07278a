package org.lmcache4j.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvConnector;

/** The status line an operator sees from {@code bin/lmcache pool}: occupancy, engines attached, and their activity. */
class PoolStatusTest {

    @TempDir
    Path dir;

    @Test
    void theStatusCountsSlotsEnginesHitsMissesStoresAndEvictions() throws Exception {
        String url = PoolEngines.url(dir, 6, "embed=false");
        try (PoolCoordinator c = PoolCoordinator.tryStart(dir, 0, Duration.ofSeconds(30)).orElseThrow();
             Arena arena = Arena.ofShared(); KvConnector a = PoolEngines.open(url); KvConnector b = PoolEngines.open(url)) {
            assertEquals(List.of(), c.status(), "no pool before an engine attaches");
            PoolEngines.Prompt p = PoolEngines.Prompt.of(arena, 1, 4, true);
            assertEquals(64, a.store(p.tokens(), p.kv(), p.slots()));
            assertEquals(64, PoolEngineChild.check(b, arena, 1, 4)); // 4 hits
            assertEquals(0, PoolEngineChild.check(b, arena, 2, 2)); // 2 keys absent
            PoolEngines.Prompt q = PoolEngines.Prompt.of(arena, 3, 3, true);
            assertEquals(48, a.store(q.tokens(), q.kv(), q.slots())); // 6 slots: one evicted
            List<String> status = c.status();
            assertEquals(1, status.size(), status.toString());
            String expected = "pool " + PoolEngines.poolName() + ": 6 of 6 slots ready (0.0 GiB of 0.0 GiB), 0 being written, ";
            assertTrue(status.getFirst().startsWith(expected), status.getFirst());
            assertTrue(status.getFirst().endsWith(" held, 2 engines attached; since start: 4 hits, 2 misses, 7 stores,"
                    + " 1 evictions"), status.getFirst());
        }
    }
}
