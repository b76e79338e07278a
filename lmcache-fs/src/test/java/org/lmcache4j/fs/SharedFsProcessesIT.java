package org.lmcache4j.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.testing.ChildJvm;

/**
 * Three engine processes share one directory through the fs tier for a minute (system property
 * {@value #SECONDS_PROPERTY}): each retrieves prompts at random and stores its third of them, so the
 * others' prompts reach it only through the directory, while the tiny budget makes every engine evict and
 * sweep (every 200 ms) under the others' readers. Every retrieved byte is checked against the KV computed
 * from the tokens; no engine may see an exception or a tier error, and each must have hit prompts only
 * another process stored.
 */
class SharedFsProcessesIT {

    static final String SECONDS_PROPERTY = "lmcache.fs.processesSeconds";
    private static final int CHILDREN = 3;
    private static final int PROMPTS = 24;

    @TempDir
    Path dir;

    @Test
    void threeEnginesStoreAndRetrieveOverlappingPromptsOnOneDirectoryByteForByte() throws Exception {
        long seconds = Long.getLong(SECONDS_PROPERTY, 60);
        // About half of the prompts' distinct chunks fit: puts evict, sweeps trim what the others wrote.
        long chunkFileBytes = 4096 + FsEngines.CHUNK_BYTES;
        long capacity = chunkFileBytes * (FsEngines.PREFIX_CHUNKS + PROMPTS * FsEngines.OWN_CHUNKS) / 2;
        String url = FsTiers.url(dir, "capacity=" + capacity + "&sweepMillis=200&touchMillis=0");
        List<Process> children = new ArrayList<>();
        try {
            for (int c = 0; c < CHILDREN; c++) {
                children.add(ChildJvm.start(FsEngineChild.class, url, Integer.toString(c), Integer.toString(CHILDREN),
                        Integer.toString(PROMPTS), Long.toString(seconds)));
            }
            for (int c = 0; c < CHILDREN; c++) {
                Process p = children.get(c);
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                assertTrue(p.waitFor(seconds + 120, TimeUnit.SECONDS), "child " + c + " finished");
                assertEquals(0, p.exitValue(), "exit status of child " + c + " (" + out + ")");
                System.out.println("child " + c + ": " + out);
                Map<String, Long> r = parse(out);
                assertEquals(0, r.get("mismatches"), "child " + c + ": retrieved chunks that differ from the computed KV: " + out);
                assertEquals(0, r.get("exceptions"), "child " + c + ": exceptions out of the engine: " + out);
                assertEquals(0, r.get("fsErrors"), "child " + c + ": fs tier errors: " + out);
                assertTrue(r.get("foreignHitTokens") > 0, "child " + c + " hit prompts only other processes stored: " + out);
                assertTrue(r.get("fsHitTokens") > 0, "child " + c + " read from the fs tier: " + out);
            }
        } finally {
            children.forEach(Process::destroyForcibly);
        }
    }

    private static Map<String, Long> parse(String line) {
        Map<String, Long> m = new HashMap<>();
        for (String kv : line.lines().reduce((a, b) -> b).orElse("").split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
            }
        }
        for (String k : List.of("mismatches", "exceptions", "fsErrors", "foreignHitTokens", "fsHitTokens")) {
            assertTrue(m.containsKey(k), "child output has " + k + ": '" + line + "'");
        }
        return m;
    }
}
