package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.SeededKv;

/** A connector in one JVM process stores; a connector in a new process retrieves it from disk, byte for byte. */
class EngineRestartIT {

    static final long SEED = 42;
    private static final int TOKENS = 10 * Engines.CHUNK + 3;

    @TempDir
    Path dir;

    static LmCacheConfig config(Path dir) {
        return Engines.config().localDisk(dir).maxLocalDiskBytes(64 * Engines.CHUNK_BYTES).build();
    }

    @Test
    void aNewProcessGetsDiskHitsByteForByte() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), EngineStoreChild.class.getName(), dir.toString(),
                Integer.toString(TOKENS)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        boolean done = child.waitFor(60, TimeUnit.SECONDS);
        if (!done) {
            child.destroyForcibly();
        }
        assertTrue(done, "child did not finish in 60 s");
        assertEquals(0, child.exitValue());
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("stored " + 10 * Engines.CHUNK), out);

        try (Arena arena = Arena.ofConfined(); KvConnector connector = KvConnectors.open(config(dir), Engines.SMALL)) {
            int[] tokens = SeededKv.tokens(SEED, TOKENS);
            int[] slots = SeededKv.identitySlots(TOKENS);
            HostKvMemory expected = SeededKv.contiguous(arena, Engines.SMALL, TOKENS);
            SeededKv.fill(expected, tokens, slots);
            assertEquals(10 * Engines.CHUNK, connector.lookup(tokens));
            HostKvMemory target = SeededKv.paged(arena, Engines.SMALL, 60, 4);
            int[] targetSlots = SeededKv.shuffledSlots(9, TOKENS, target.numSlots());
            assertEquals(10 * Engines.CHUNK, connector.retrieve(tokens, target, targetSlots));
            SeededKv.assertSameKv(expected, slots, target, targetSlots, 0, 10 * Engines.CHUNK);
            assertEquals(10, connector.stats().promotedChunks(), "every hit came from disk");
        }
    }
}
