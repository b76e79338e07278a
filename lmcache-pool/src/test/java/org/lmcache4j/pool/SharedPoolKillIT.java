package org.lmcache4j.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kill test: four engine JVMs churn through a pool too small for their prompts (retrieving, checking every byte,
 * storing what they miss), and every 200-500 ms a random one is killed with SIGKILL and replaced, for 100 cycles.
 * After each kill the coordinator's fsck must pass (every slot free, ready or being written by a live engine; every
 * index entry a ready slot of the same key and generation); no engine may ever see a wrong byte; and once all have
 * exited, nothing is held or being written.
 */
class SharedPoolKillIT {

    private static final int CYCLES = 100;

    @TempDir
    Path dir;

    private final AtomicLong hits = new AtomicLong();
    private final ChurnEngines churning = new ChurnEngines((engine, h, m) -> hits.accumulateAndGet(h, Math::max));

    private Process start(String url, long seed) throws Exception {
        return churning.start(url, 0, seed);
    }

    @Test
    void killingEnginesAtRandomLeaksNoSlotAndServesNoWrongByte() throws Exception {
        // 8 prompts of 4 chunks churn through 20 slots: constant eviction, writes and holds in flight when a kill lands
        String url = PoolEngineChild.url(dir, 20, true);
        SplittableRandom random = new SplittableRandom(42);
        try (PoolCoordinator coordinator = PoolCoordinator.tryStart(dir, 20 * PoolEngines.SLOT, Duration.ofSeconds(30)).orElseThrow()) {
            String name = PoolEngines.poolName();
            List<Process> engines = new ArrayList<>();
            try {
                churn(coordinator, name, url, engines, random);
            } finally {
                engines.forEach(Process::destroyForcibly);
            }
        }
    }

    private void churn(PoolCoordinator coordinator, String name, String url, List<Process> engines, SplittableRandom random)
            throws Exception {
        for (int i = 0; i < 4; i++) {
            engines.add(start(url, i));
        }
        int killed = 0;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            Thread.sleep(200 + random.nextInt(301));
            int victim = random.nextInt(engines.size());
            Process p = engines.get(victim);
            if (p.isAlive()) {
                p.destroyForcibly(); // SIGKILL
                killed++;
            }
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertTrue(p.exitValue() != 3, "engine " + victim + " exited after a wrong byte: " + churning.bad());
            assertEquals(List.of(), coordinator.fsck(name), "fsck after cycle " + cycle);
            engines.set(victim, start(url, 100 + cycle));
        }
        for (Process p : engines) {
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(List.of(), churning.bad(), "no engine saw a wrong byte");
        assertTrue(killed >= CYCLES / 2, killed + " kills");
        long deadline = System.nanoTime() + 10_000_000_000L;
        int[] counts = coordinator.counts(name);
        while ((counts[1] != 0 || counts[2] != 0) && System.nanoTime() < deadline) {
            Thread.sleep(50); // the coordinator sees each connection end
            counts = coordinator.counts(name);
        }
        assertEquals(0, counts[1], "no slot left WRITING by a dead engine");
        assertEquals(0, counts[2], "no slot left held by a dead engine");
        assertEquals(List.of(), coordinator.fsck(name));
        assertTrue(counts[0] > 0 && hits.get() > 0, "the engines hit one another's chunks: " + hits.get());
    }
}
