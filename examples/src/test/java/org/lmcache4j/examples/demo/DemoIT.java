package org.lmcache4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
        assertEquals(9, results.split("\"hit_tier\": ", -1).length - 1, "cold, warm, restart, pool, 3 chat rounds, 2 questions");
        assertTrue(results.contains("\"hit_tier\": \"pool\""), "a second engine JVM hit through the shared pool: " + results);
        assertTrue(results.contains("\"hit_tier\": \"disk\""), results);
        assertTrue(results.contains("\"hit_tier\": \"cpu\""), results);
        assertTrue(text.contains("from disk in a new process"), text);
        assertEquals(1, text.split("shared 1,024-token prefix", -1).length - 1, "the summary line, once: " + text);
        assertEquals(1, text.split("kv_identical=", -1).length - 1, "the verdict line, once: " + text);
        assertEquals(960, ImageIO.read(chart.toFile()).getWidth());
        everyHitHasAPositiveRetrieveAndRawBaseline(results);
        String rag = results.substring(results.indexOf("\"rag_blend\""));
        assertEquals("true", field(rag, "ratio_1_identical"), "blending at 1.0 equals the no-cache run: " + rag);
        assertTrue(Long.parseLong(field(rag, "blend_cached_tokens")) > 4 * 256, "the documents were reused in their new order: " + rag);
        assertTrue(Double.parseDouble(field(rag, "blend_ttft_ms")) > 0, rag);
        assertTrue(text.contains("rag (CacheBlend): 4 documents cached on their own"), text);
    }

    /** Each hit row: kv_bytes = cached tokens x KV bytes per token, both times positive, their ratio as reported. */
    private static void everyHitHasAPositiveRetrieveAndRawBaseline(String results) {
        long bytesPerToken = Long.parseLong(field(results, "kv_bytes_per_token"));
        String[] rows = results.substring(results.indexOf("\"scenarios\"")).split("\n    \\{\n");
        int hits = 0;
        for (String row : Arrays.copyOfRange(rows, 1, rows.length)) {
            long cached = Long.parseLong(field(row, "cached_tokens"));
            if (cached == 0) {
                assertEquals("null", field(row, "raw_ms"), row);
                continue;
            }
            hits++;
            assertEquals(cached * bytesPerToken, Long.parseLong(field(row, "kv_bytes")), row);
            double retrieve = Double.parseDouble(field(row, "retrieve_ms"));
            double raw = Double.parseDouble(field(row, "raw_ms"));
            assertTrue(retrieve > 0 && raw > 0, row);
            // the fields print three decimals: the ratio of the unrounded times lies between these bounds (raw may be ~0.01 ms)
            double lowest = (retrieve - 0.0005) / (raw + 0.0005) - 0.0005;
            double highest = raw > 0.0005 ? (retrieve + 0.0005) / (raw - 0.0005) + 0.0005 : Double.MAX_VALUE;
            double ratio = Double.parseDouble(field(row, "retrieve_vs_raw"));
            assertTrue(ratio >= lowest && ratio <= highest, "retrieve_vs_raw " + ratio + " outside [" + lowest + ", " + highest + "]: " + row);
            double[] runs = runs(row);
            // a disk hit in a new process happens once (a repeat would hit the cpu tier); the others are repeated
            assertEquals(field(row, "hit_tier").equals("\"disk\"") ? 1 : RawCopy.REPEATS, runs.length, row);
            assertEquals(RetrieveRepeats.median(runs), retrieve, 0.0015, "retrieve_ms is the median of its runs: " + row);
            if (field(row, "hit_tier").equals("\"disk\"")) {
                assertTrue(field(row, "raw_method").contains("chunk files"), row);
                assertTrue(field(row, "raw_cache_state").matches("\"(cold|partly warm)\""), "set and checked with mincore: " + row);
                assertTrue(field(row, "raw_cache_state_how").contains("posix_fadvise"), row);
            } else {
                assertTrue(field(row, "raw_method").contains("MemorySegment.copy"), row);
            }
        }
        assertEquals(6, hits, "warm, restart, pool, chat rounds 2 and 3, question 2:\n" + results);
    }

    private static double[] runs(String row) {
        Matcher m = Pattern.compile("\"retrieve_ms_runs\": \\[([^\\]]*)]").matcher(row);
        assertTrue(m.find(), "retrieve_ms_runs in " + row);
        return Arrays.stream(m.group(1).split(", ")).mapToDouble(Double::parseDouble).toArray();
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\": (\"(?:[^\"\\\\]|\\\\.)*\"|[^,\n]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }
}
