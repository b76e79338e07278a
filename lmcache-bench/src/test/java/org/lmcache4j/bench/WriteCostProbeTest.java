package org.lmcache4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The write-cost probe's report: each round's figures, chunks really written to the disk tier, and nothing left behind. */
class WriteCostProbeTest {

    @TempDir
    Path dir;

    @Test
    void writesChunksAtAboutTheRateAndReportsEachRound() throws IOException {
        List<String> notes = new ArrayList<>();
        Map<String, Object> out = WriteCostProbe.run(dir, 200, 2, 0.3, notes::add);
        assertEquals(20, notes.size(), "ten phases a round: " + notes);
        assertEquals(2, out.get("rounds"));
        assertEquals(256L * 46080, out.get("chunk_bytes"));
        for (String field : List.of("write_mib_per_s", "write_compute_loss", "write_cpu_share", "recycle_mib_per_s",
                "recycle_compute_loss", "recycle_cpu_share", "overwrite_mib_per_s",
                "overwrite_compute_loss", "overwrite_cpu_share", "copy_mib_per_s", "copy_compute_loss", "copy_cpu_share")) {
            assertTrue(out.get(field) instanceof Double, field + ": " + out.get(field));
            assertEquals(2, ((List<?>) out.get(field + "_runs")).size(), field + "_runs");
        }
        double written = (Double) out.get("write_mib_per_s");
        assertTrue(written > 0 && written <= 200 * 1.5, "written at " + written + " MiB/s, paced at 200");
        assertTrue((Double) out.get("write_cpu_share") > 0, "the writer's CPU time is measured");
        assertTrue((Double) out.get("overwrite_mib_per_s") > 0, "files are overwritten");
        assertTrue((Double) out.get("recycle_mib_per_s") > 0, "chunks are put into the full tier");
        try (Stream<Path> files = Files.walk(dir)) {
            assertEquals(0, files.filter(f -> f.toString().endsWith(".kv") || f.toString().endsWith(".spare")
                    || f.getFileName().toString().startsWith("overwritten-")).count(), "the probe's chunks, spares and overwritten files are gone");
        }
    }

    @Test
    void badArgumentsAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WriteCostProbe.run(dir, 0, 1, 1, n -> { }));
        assertTrue(e.getMessage().contains("mibPerSecond 0.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WriteCostProbe.run(dir, 10, 0, 1, n -> { }));
        assertThrows(IllegalArgumentException.class, () -> WriteCostProbe.run(dir, 10, 1, 0, n -> { }));
    }
}
