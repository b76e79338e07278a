package org.lmcache4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bin/lmcache demo} end to end on the tiny model, restart child included: every check passes. */
class DemoIT {

    @TempDir
    Path dir;

    @Test
    void theDemoRunsEveryScenarioAndEveryComparisonHolds() throws Exception {
        Path json = dir.resolve("results.json");
        Path chart = dir.resolve("ttft.png");
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            exit = new CommandLine(new DemoCommand()).execute("--model-size", "tiny", "--prefix-tokens", "1024",
                    "--doc-tokens", "512", "--chat-rounds", "3", "--questions", "2", "--warmup-tokens", "256",
                    "--cache-dir", dir.toString(), "--json", json.toString(), "--chart", chart.toString(), "--no-progress");
        } finally {
            System.setOut(original);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, text);
        String results = Files.readString(json);
        assertTrue(results.contains("\"kv_identical\": true"), results);
        assertTrue(results.contains("\"tokens_identical\": true"), results);
        assertEquals(8, results.split("\"hit_tier\": ", -1).length - 1, "cold, warm, restart, 3 chat rounds, 2 questions");
        assertTrue(results.contains("\"hit_tier\": \"disk\""), results);
        assertTrue(results.contains("\"hit_tier\": \"cpu\""), results);
        assertTrue(text.contains("from disk in a new process"), text);
        assertEquals(960, ImageIO.read(chart.toFile()).getWidth());
    }
}
