package org.lmcache4j.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.testing.ChildJvm;

/**
 * The coordinator ({@code bin/lmcache pool} in its own JVM) killed with SIGKILL under two churning engines: they
 * keep serving (their pool chunks are misses, no exception, no wrong byte); a new coordinator takes the pool over
 * as it is, the engines reconnect and hit again, fsck passes, and the directory holds one pool file.
 */
class SharedPoolCoordinatorKillIT {

    @TempDir
    Path dir;

    private final AtomicLongArray hits = new AtomicLongArray(3);
    private final AtomicLongArray misses = new AtomicLongArray(3);
    private final ChurnEngines churning = new ChurnEngines((engine, h, m) -> {
        hits.set(engine, h);
        misses.set(engine, m);
    });

    private Process coordinator() throws Exception {
        Process p = ChildJvm.start(PoolMain.class, "--dir", dir.toString(), "--size", Long.toString(20 * PoolEngines.SLOT));
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertTrue(line != null && line.startsWith("lmcache pool: serving"), line);
        return p;
    }

    private Process engine(String url, int i) throws Exception {
        return churning.start(url, i, i);
    }

    /**
     * With no service, the first engine that finds no coordinator runs one embedded; when that engine is killed,
     * another takes over (the kernel's lock decides who), and the pool goes on, one file.
     */
    @Test
    void whenTheEngineThatEmbedsTheCoordinatorDiesAnotherTakesOver() throws Exception {
        String url = PoolEngineChild.url(dir, 20, true);
        List<Process> processes = new ArrayList<>();
        try {
            processes.add(engine(url, 0));
            processes.add(engine(url, 1));
            await(() -> hits.get(0) > 0 && hits.get(1) > 0, "hits with an embedded coordinator");
            for (int victim = 0; victim < 2; victim++) { // one of them embeds it: after both kills, a third engine has it
                processes.get(victim).destroyForcibly();
                assertTrue(processes.get(victim).waitFor(30, TimeUnit.SECONDS));
                if (victim == 0) {
                    long before = hits.get(1);
                    await(() -> hits.get(1) > before + 20, "the other engine hitting after the first was killed");
                }
            }
            processes.add(engine(url, 2));
            await(() -> hits.get(2) > 20, "a new engine, alone, hitting through the coordinator it started");
            try (SharedPoolTier probe = PoolEngines.probe(url)) {
                assertEquals(List.of(), probe.fsck());
            }
            assertEquals(List.of(), churning.bad(), "no engine saw a wrong byte");
            try (var files = Files.list(dir)) {
                assertEquals(1, files.filter(p -> p.getFileName().toString().contains(".pool")).count(), "one pool file");
            }
        } finally {
            processes.forEach(Process::destroyForcibly);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    @Test
    void enginesServeMissesWhileTheCoordinatorIsDeadAndHitAgainWithTheNextOne() throws Exception {
        String url = PoolEngineChild.url(dir, 20, false); // the engines never start a coordinator of their own
        List<Process> processes = new ArrayList<>();
        try {
            Process first = coordinator();
            processes.add(first);
            for (int i = 0; i < 2; i++) {
                processes.add(engine(url, i));
            }
            await(() -> hits.get(0) > 0 && hits.get(1) > 0, "hits through the first coordinator");

            first.destroyForcibly(); // SIGKILL
            assertTrue(first.waitFor(30, TimeUnit.SECONDS));
            long missesAtKill = misses.get(0) + misses.get(1);
            long hitsAtKill = hits.get(0) + hits.get(1);
            await(() -> misses.get(0) + misses.get(1) > missesAtKill + 20, "misses while no coordinator runs");
            for (Process p : processes.subList(1, 3)) {
                assertTrue(p.isAlive(), "an engine kept running without its coordinator");
            }

            Process second = coordinator();
            processes.add(second);
            long hitsBefore = hits.get(0) + hits.get(1);
            await(() -> hits.get(0) + hits.get(1) > hitsBefore + 20, "hits through the second coordinator");
            assertTrue(hitsBefore >= hitsAtKill);
            try (SharedPoolTier probe = PoolEngines.probe(url)) {
                assertEquals(List.of(), probe.fsck(), "fsck through the new coordinator");
            }
            assertEquals(List.of(), churning.bad(), "no engine saw a wrong byte");
            try (var files = Files.list(dir)) {
                List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".pool")).toList();
                assertEquals(1, names.size(), "one pool file, never two: " + names);
            }
        } finally {
            processes.forEach(Process::destroyForcibly);
        }
    }
}
