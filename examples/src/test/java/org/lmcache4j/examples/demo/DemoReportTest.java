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

    private static DemoSummary summary(boolean lastKvIdentical) {
        return new DemoSummary("m \"x\"", "/tmp/m.gguf", 1000, 512, 2, 256, 1234.5, 9.5, List.of(
                new ScenarioResult("cold (empty cache)", 4160, 0, 9000, 9100, 1, "none", true, true, true, new int[] {1, 2}),
                new ScenarioResult("warm (cpu hit)", 4160, 4096, 9050, 400, 100, "cpu", true, true, true, new int[] {1, 2}),
                new ScenarioResult("restart (disk hit)", 4160, 4096, 9000, 600, 300, "disk", lastKvIdentical, true, true, new int[] {1, 2})));
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
