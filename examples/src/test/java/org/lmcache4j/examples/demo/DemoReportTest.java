package org.lmcache4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's contract: the JSON field names, the verdicts computed from every row, the table and the chart. */
class DemoReportTest {

    @TempDir
    Path dir;

    private static final long KV_BYTES = 4096L * 512;

    private static DemoSummary summary(boolean lastKvIdentical) {
        return new DemoSummary("m \"x\"", "/tmp/m.gguf", 1000, 512, 2, 256, 1234.5, 9.5, List.of(
                new ScenarioResult("cold (empty cache)", 4160, 0, 9000, 9100, 1, 0, RawBaseline.NONE, "none", true, true, true,
                        new int[] {1, 2}),
                new ScenarioResult("warm (cpu hit)", 4160, 4096, 9050, 400, 100, KV_BYTES,
                        new RawBaseline(80, KV_BYTES, "a copy", "", ""), "cpu", true, true, true, new int[] {1, 2}),
                new ScenarioResult("restart (disk hit)", 4160, 4096, 9000, 600, 300, KV_BYTES,
                        new RawBaseline(250, KV_BYTES + 16 * 4096, "a read", "cold", "evicted"), "disk", lastKvIdentical, true, true,
                        new int[] {1, 2})), new RagResult(4, 2200, 12_000, 11_500, 0, 2_300, 0.15, 2150, 0.042, false, 12_100, true));
    }

    @Test
    void theRagScenarioIsReportedBesideTheRowsWithItsSpeedupsAndItsExactnessCheck() {
        String json = JsonReport.render(summary(true));
        assertTrue(json.contains("\"rag_blend\": {\n    \"documents\": 4,"), json);
        assertTrue(json.contains("\"blend_speedup_vs_no_cache\": 5.217,\n    \"blend_speedup_vs_prefix\": 5.000,"), json);
        assertTrue(json.contains("\"ratio_1_identical\": true\n  }\n}\n"), json);
        assertEquals(3, json.split("\"hit_tier\": ", -1).length - 1, "not a scenario row: its KV is approximate by design");
        String table = ResultTable.rag(summary(true).rag());
        assertTrue(table.contains("5.2x vs no cache, 5.0x vs prefix caching"), table);
        assertTrue(table.contains("KV, logits and tokens identical to no cache"), table);
    }

    @Test
    void jsonHasTheContractFieldsForEveryScenario() {
        String json = JsonReport.render(summary(true));
        for (String field : new String[] {"name", "prompt_tokens", "cached_tokens", "ttft_ms_no_cache", "ttft_ms_cache", "hit_tier"}) {
            assertEquals(3, json.split("\"" + field + "\": ", -1).length - 1, field + " in every scenario:\n" + json);
        }
        assertTrue(json.contains("\"kv_identical\": true,\n  \"tokens_identical\": true"), json);
        assertTrue(json.contains("\"name\": \"warm (cpu hit)\""), json);
        assertTrue(json.contains("\"model\": \"m \\\"x\\\"\""), "strings are escaped: " + json);
        assertTrue(json.contains("\"ttft_ms_cache\": 400.000"), json);
    }

    @Test
    void everyHitHasItsBytesItsRetrieveAndItsRawBaselineAndTheRatioOfTheTwo() {
        String json = JsonReport.render(summary(true));
        for (String field : new String[] {"kv_bytes", "retrieve_ms", "raw_ms", "retrieve_vs_raw"}) {
            assertEquals(3, json.split("\"" + field + "\": ", -1).length - 1, field + " in every scenario:\n" + json);
        }
        assertTrue(json.contains("\"kv_bytes\": " + KV_BYTES + ",\n      \"retrieve_ms\": 100.000,\n      \"retrieve_ms_runs\": [100.000],\n"
                + "      \"raw_ms\": 80.000,\n      \"retrieve_vs_raw\": 1.250,"), json);
        assertTrue(json.contains("\"retrieve_ms\": 300.000,\n      \"retrieve_ms_runs\": [300.000],\n      \"raw_ms\": 250.000,\n"
                + "      \"retrieve_vs_raw\": 1.200,"), json);
        assertTrue(json.contains("\"kv_bytes\": 0,\n      \"retrieve_ms\": 1.000,\n      \"raw_ms\": null,\n      \"retrieve_vs_raw\": null,"),
                "a miss has no baseline: " + json);
        assertTrue(json.contains("\"retrieve_vs_raw_max\": 1.250,"), json);
    }

    @Test
    void aHitListsEveryRetrieveMeasuredAndReportsTheirMedianAgainstItsBaseline() {
        List<ScenarioResult> rows = new java.util.ArrayList<>(summary(true).scenarios());
        rows.set(1, rows.get(1).withRetrieves(new double[] {130, 90, 100}));
        DemoSummary s = summary(true);
        String json = JsonReport.render(new DemoSummary(s.model(), s.modelFile(), s.parameters(), s.kvBytesPerToken(), s.threads(),
                s.chunkTokens(), s.prefillTokensPerSecond(), s.wallSeconds(), rows, s.rag()));
        assertTrue(json.contains("\"retrieve_ms\": 100.000,\n      \"retrieve_ms_runs\": [130.000, 90.000, 100.000],\n"
                + "      \"raw_ms\": 80.000,\n      \"retrieve_vs_raw\": 1.250,"), json);
        assertTrue(json.contains("\"retrieve_ms\": 300.000,\n      \"retrieve_ms_runs\": [300.000],\n"), "measured once: " + json);
        assertEquals(2, json.split("\"retrieve_ms_runs\": ", -1).length - 1, "hits only: " + json);
        assertEquals(400, rows.get(1).ttftMsCache(), "the request's TTFT is not repeated");
        assertEquals(130, rows.get(1).retrieveRuns()[0]);
    }

    @Test
    void onlyTheBaselineReadFromFilesSaysItsPageCacheStateAndHowItWasSet() {
        String json = JsonReport.render(summary(true));
        assertEquals(1, json.split("\"raw_cache_state\": ", -1).length - 1, json);
        assertTrue(json.contains("\"raw_cache_state\": \"cold\",\n      \"raw_cache_state_how\": \"evicted\""), json);
        assertEquals(2, json.split("\"raw_method\": ", -1).length - 1, "every hit says how its baseline moved the bytes: " + json);
    }

    @Test
    void theRatioIsComputedFromTheTwoTimesAndMissingWhenEitherIs() {
        ScenarioResult warm = summary(true).scenarios().get(1);
        assertEquals(100.0 / 80, warm.retrieveVsRaw(), 1e-12);
        assertTrue(Double.isNaN(summary(true).scenarios().get(0).retrieveVsRaw()), "a miss");
        assertTrue(Double.isNaN(warm.withRaw(new RawBaseline(Double.NaN, 0, "not measured", "unknown", "")).retrieveVsRaw()));
    }

    @Test
    void theHeadlineIsOneLineNamingBothTiersAndBothBaselines() {
        String line = DemoCommand.headline(summary(true));
        assertEquals(1, line.split("\n", -1).length - 1, "exactly one line: " + line);
        assertTrue(line.startsWith("shared 4,096-token prefix, TTFT: 9,050 ms -> 400 ms from the cpu tier (22.6x); "
                + "9,000 ms -> 600 ms from disk in a new process, page cache cold (15.0x); retrieve 1.25x a plain copy, 1.20x a plain read"),
                line);
        assertEquals(0, ResultTable.render(summary(true)).split("shared 4,096-token prefix", -1).length - 1,
                "the table does not repeat it");
    }

    @Test
    void oneDifferingRowMakesTheTopLevelVerdictFalse() {
        DemoSummary s = summary(false);
        assertFalse(s.kvIdentical());
        assertTrue(s.tokensIdentical());
        assertTrue(JsonReport.render(s).contains("\"kv_identical\": false"));
        assertTrue(ResultTable.render(s).contains("kv_identical=false"));
    }

    @Test
    void theTableShowsSpeedupAndTier() {
        String table = ResultTable.render(summary(true));
        assertTrue(table.contains("22.6x"), table);
        assertTrue(table.contains("disk"), table);
        assertTrue(table.contains("1.25x") && table.contains("1.20x"), "retrieve vs raw: " + table);
        assertTrue(table.contains("page cache cold"), table);
    }

    @Test
    void theChartIsAPng() throws IOException {
        Path png = dir.resolve("ttft.png");
        TtftChart.write(summary(true), png);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(960, image.getWidth());
        assertEquals(600, image.getHeight());
    }

    @Test
    void niceAxisLimits() {
        assertEquals(5000, TtftChart.niceCeil(4160));
        assertEquals(10000, TtftChart.niceCeil(9100));
        assertEquals(2500, TtftChart.niceCeil(2112));
        assertEquals(12000, TtftChart.niceCeil(10114));
    }
}
