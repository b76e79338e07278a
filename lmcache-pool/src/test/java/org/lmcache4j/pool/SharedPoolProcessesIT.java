package org.lmcache4j.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.testing.ChildJvm;

/**
 * Four engine JVMs on one pool, the coordinator in this JVM: a prompt stored by one is hit, byte for byte, by the
 * other three; the pool holds each chunk once; fsck finds nothing wrong, and nothing is held or written once they
 * have exited.
 */
class SharedPoolProcessesIT {

    @TempDir
    Path dir;

    private static String line(Process p) throws Exception {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    @Test
    void fourEnginesShareOneCopyOfEachChunk() throws Exception {
        String url = PoolEngineChild.url(dir, 64, true);
        try (PoolCoordinator coordinator = PoolCoordinator.tryStart(dir, 64 * PoolEngines.SLOT, Duration.ofSeconds(30)).orElseThrow()) {
            String name = PoolEngines.poolName();
            for (long seed = 1; seed <= 2; seed++) {
                Process storer = ChildJvm.start(PoolEngineChild.class, "store", url, Long.toString(seed), "4");
                assertEquals("stored 64", line(storer));
                List<Process> checkers = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    checkers.add(ChildJvm.start(PoolEngineChild.class, "check", url, Long.toString(seed), "4"));
                }
                for (Process c : checkers) {
                    assertEquals("ok 64", line(c), "prompt " + seed + ": every byte, in another process");
                    assertTrue(c.waitFor(60, TimeUnit.SECONDS));
                    assertEquals(0, c.exitValue());
                }
                storer.getOutputStream().close(); // its stdin ends: it exits
                assertTrue(storer.waitFor(60, TimeUnit.SECONDS));
                assertEquals(List.of(), coordinator.fsck(name));
            }
            int[] counts = coordinator.counts(name);
            assertEquals(8, counts[0], "8 chunks of 2 prompts, each held once by 4 engines");
            assertEquals(0, counts[1], "nothing being written");
            assertEquals(0, counts[2], "nothing held");
            try (var pools = Files.list(dir)) {
                assertEquals(1, pools.filter(p -> p.toString().endsWith(".pool")).count(), "one pool file");
            }
        }
    }
}
