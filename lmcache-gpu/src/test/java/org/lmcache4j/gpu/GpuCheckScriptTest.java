package org.lmcache4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code scripts/gpu-check.sh} on a machine without a GPU: it says why, writes its JSON and exits 0. */
class GpuCheckScriptTest {

    private static final Path SCRIPT = Path.of(System.getProperty("basedir", ".")).resolve("scripts/gpu-check.sh");

    @Test
    void withoutAGpuItSaysWhyWritesItsJsonAndSucceeds(@TempDir Path dir) throws IOException, InterruptedException {
        assumeTrue(CudaAvailability.driverLibrary().isEmpty(), "this machine has a CUDA driver: run the script itself");
        Path json = dir.resolve("gpu-check.json");
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString(), json.toString()).redirectErrorStream(true);
        pb.environment().put("LMCACHE_GPU_CHECK_CLASSPATH", System.getProperty("java.class.path"));
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), output);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("gpu-check: no GPU here, nothing to check (\"no GPU: "), output);
        assertEquals("{\"gpu\": false, \"reason\": " + KvCopyBenchmark.quote("no GPU: " + CudaAvailability.unavailableReason())
                + "}\n", Files.readString(json));
    }
}
