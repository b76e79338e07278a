package org.lmcache4j.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/lmcache bench --quick --repeat 2} through the reference engine on the tiny model: the JSON
 * labels say what ran (regression: a SmolLM-135M run said {@code model_shape: qwen2.5-1.5b} and
 * {@code prefill_tokens_per_second: 25000}), every top-level figure lists two runs, and holds their median.
 */
class BenchIT {

    private static final List<String> FIELDS = List.of("retrieve_vs_copy_ratio", "disk_read_vs_raw_ratio", "disk_write_vs_raw_ratio",
            "miss_overhead_ratio", "lookup_us_per_chunk", "ttft_speedup_multi_round_qa");

    @TempDir
    Path dir;

    @Test
    void theReportNamesTheEnginesShapeAndMeasuredRateAndHoldsMediansOfItsRuns() throws Exception {
        Path json = dir.resolve("bench.json");
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            BenchCommand.run(new String[] {"--model-size", "tiny", "--quick", "--repeat", "2", "--json", json.toString(),
                "--cache-dir", dir.toString()});
        } finally {
            System.setOut(original);
        }
        String report = Files.readString(json);
        assertEquals("\"tiny\"", field(report, "model_shape"), report);
        assertEquals("\"reference engine tiny\"", field(report, "engine"), report);
        double rate = Double.parseDouble(field(report, "prefill_tokens_per_second"));
        assertTrue(rate > 0, report);
        assertNotEquals(25_000.0, rate, "measured, not the synthetic default");
        assertTrue(field(report, "prefill_rate").startsWith("\"measured"), report);
        assertEquals("2", field(report, "repeat"));
        for (String f : FIELDS) {
            double[] runs = runs(report, f);
            assertEquals(2, runs.length, f + "_runs: " + report);
            assertTrue(Arrays.stream(runs).allMatch(v -> v > 0), f + "_runs: " + Arrays.toString(runs));
            assertEquals(Math.round((runs[0] + runs[1]) / 2 * 1000) / 1000.0, Double.parseDouble(field(report, f)), 1e-9,
                    f + " is the median of " + Arrays.toString(runs));
        }
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("\"model_shape\": \"tiny\""), "the JSON is printed too");
        assertTrue(Double.parseDouble(field(report, "rag_blend_ttft_speedup_vs_prefix")) > 0, report);
        // every lossless codec decoded the engine's own KV byte for byte, or the bench would have thrown
        assertTrue(report.contains("\"codec\": \"shuffle+nibble\""), report);
        String exact = report.substring(report.indexOf("\"ratio\": 1.0"));
        assertEquals("0.0", field(exact, "kl_mean"), "blending at ratio 1.0 is the full prefill");
        assertEquals("0.0", field(exact, "kv_relative_deviation_mean"), "blending at ratio 1.0 is the full prefill");
        assertEquals("1.0", field(exact, "first_token_agreement"), "blending at ratio 1.0 is the full prefill");
    }

    @Test
    void theConnectorOnlyOptionsAreRefusedForTheReferenceEngine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchCommand.run(new String[] {"--model", "qwen2.5-1.5b", "--cache-dir", dir.toString()}));
        assertTrue(e.getMessage().startsWith("--model: applies to --connector-only"), e.getMessage());
        assertEquals("smollm-135m", BenchCommand.subject(org.lmcache4j.examples.model.ModelSize.SMOLLM_135M).modelShape());
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\": (\"[^\"]*\"|[^,\\n]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }

    private static double[] runs(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "_runs\": \\[([^\\]]*)\\]").matcher(json);
        assertTrue(m.find(), name + "_runs in " + json);
        return Arrays.stream(m.group(1).split(",")).map(String::trim).mapToDouble(Double::parseDouble).toArray();
    }
}
