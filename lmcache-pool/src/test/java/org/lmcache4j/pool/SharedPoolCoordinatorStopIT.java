package org.lmcache4j.pool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.testing.ChildJvm;

/**
 * A coordinator that stops answering (SIGSTOP: its socket still accepts, nothing replies) costs an engine's calls
 * at most their timeout: each is a miss, not a thread blocked for good, and once the coordinator runs again
 * (SIGCONT) the engine reconnects and reads its chunk back byte for byte.
 */
class SharedPoolCoordinatorStopIT {

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void aStoppedCoordinatorIsAMissWithinTheTimeoutAndTheEngineComesBackWhenItRuns() throws Exception {
        Process coordinator = ChildJvm.start(PoolMain.class, "--dir", dir.toString(), "--size", Long.toString(20 * PoolEngines.SLOT));
        try {
            String line = new BufferedReader(new InputStreamReader(coordinator.getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertTrue(line != null && line.startsWith("lmcache pool: serving"), line);
            String url = PoolEngines.url(dir, 20, "embed=false&timeoutMillis=300");
            ChunkKey key = ChunkKey.ofHex("ab".repeat(32));
            byte[] bytes = PoolEngines.chunkPayload(31);
            try (SharedPoolTier tier = PoolEngines.probe(url)) {
                assertTrue(tier.put(key, MemorySegment.ofArray(bytes)));
                assertTrue(tier.contains(key));

                signal("STOP", coordinator);
                try {
                    for (int call = 0; call < 3; call++) {
                        long start = System.nanoTime();
                        // regression: the first call blocked for good on the stopped coordinator's socket
                        boolean found = CompletableFuture.supplyAsync(() -> tier.contains(key)).get(10, TimeUnit.SECONDS);
                        long tookMillis = (System.nanoTime() - start) / 1_000_000;
                        assertFalse(found, "call " + call + ": a coordinator that does not answer is a miss");
                        assertTrue(tookMillis < 5_000, "call " + call + " took " + tookMillis + " ms (timeout 300 ms)");
                    }
                    assertTrue(CompletableFuture.supplyAsync(() -> tier.get(key)).get(10, TimeUnit.SECONDS).isEmpty(),
                            "a read is a miss too");
                } finally {
                    signal("CONT", coordinator);
                }

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                boolean back = false;
                while (!back && System.nanoTime() < deadline) {
                    back = tier.contains(key);
                    if (!back) {
                        Thread.sleep(100);
                    }
                }
                assertTrue(back, "the engine reconnects once the coordinator runs again");
                Optional<ChunkBuffer> got = tier.get(key);
                assertTrue(got.isPresent(), "and reads its chunk");
                try (ChunkBuffer b = got.get()) {
                    assertArrayEquals(bytes, b.segment().toArray(ValueLayout.JAVA_BYTE), "byte for byte");
                }
                assertEquals(java.util.List.of(), tier.fsck());
            }
        } finally {
            coordinator.destroyForcibly();
            coordinator.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Sends signal {@code name} to {@code p} with the shell's own {@code kill} (no procps package needed). */
    private static void signal(String name, Process p) throws Exception {
        Process kill = new ProcessBuilder("sh", "-c", "kill -s " + name + " " + p.pid()).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + name);
    }
}
