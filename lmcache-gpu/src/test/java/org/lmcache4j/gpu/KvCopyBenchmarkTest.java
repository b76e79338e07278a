package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.KvDtype;

/** The benchmark's behaviour without a GPU (it measures nothing here) and with bad options. */
class KvCopyBenchmarkTest {

    private static String run(int expectedStatus, String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            assertEquals(expectedStatus, KvCopyBenchmark.run(args, out));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void withoutAGpuItPrintsTheReasonAndSucceeds() {
        assumeTrue(CudaAvailability.driverLibrary().isEmpty(), "this machine has a CUDA driver: run the benchmark itself");
        String output = run(0);
        assertEquals("KvCopyBenchmark: skipped, no GPU: " + CudaAvailability.unavailableReason() + System.lineSeparator(), output);
    }

    @Test
    void withoutAGpuItsJsonSaysWhy(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        assumeTrue(CudaAvailability.driverLibrary().isEmpty(), "this machine has a CUDA driver: run the benchmark itself");
        java.nio.file.Path json = dir.resolve("bench.json");
        run(0, "--json", json.toString());
        assertEquals("{\"gpu\": false, \"reason\": " + KvCopyBenchmark.quote("no GPU: " + CudaAvailability.unavailableReason())
                + "}\n", java.nio.file.Files.readString(json));
    }

    @Test
    void badOptionsPrintTheUsage() {
        String output = run(2, "--layers", "32", "--colour", "red");
        assertTrue(output.startsWith("KvCopyBenchmark: --colour: unknown option"), output);
        assertTrue(output.contains(KvCopyBenchmark.Options.USAGE), output);
        assertTrue(run(2, "--dtype", "FP64").contains("No enum constant org.lmcache4j.api.KvDtype.FP64"));
        assertTrue(run(2, "--chunks").startsWith("KvCopyBenchmark: --chunks: missing value"));
    }

    @Test
    void defaultsAreLlama3_8bShapedKvInVllmPages() {
        KvCopyBenchmark.Options o = KvCopyBenchmark.Options.parse(new String[0]);
        assertEquals(128 * 1024, o.layout().bytesPerToken(), "32 layers x 2 x 8 heads x 128 x bf16");
        assertEquals(new KvCopyBenchmark.Options(2, 1, 576, KvDtype.FP8_E4M3,
                        DeviceKvFormat.MLA, 64, 256, 16, 10, 0, ""),
                KvCopyBenchmark.Options.parse(new String[] {"--layers", "2", "--kv-heads", "1", "--head-dim", "576",
                        "--dtype", "FP8_E4M3", "--format", "MLA", "--block-size", "64"}));
    }
}
