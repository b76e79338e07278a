package org.lmcache4j.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeProbeTest {

    private static final long CHILD_TIMEOUT_SECONDS = 60;

    @TempDir
    Path dir;

    /** What a child JVM printed. */
    private record ChildRun(int exitCode, List<String> stdout, List<String> stderr) {

        List<String> stderrMentioning(String text) {
            return stderr.stream().filter(l -> l.contains(text)).toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + String.join("\n", stdout)
                    + "\n--- stderr\n" + String.join("\n", stderr);
        }
    }

    /** Runs {@link FallbackSlabMain} in a fresh JVM on this test's class path, with {@code extraFlags}. */
    private ChildRun runChild(String... extraFlags) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-Xmx64m");
        command.addAll(List.of(extraFlags));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(FallbackSlabMain.class.getName());
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                fail("child JVM did not finish in " + CHILD_TIMEOUT_SECONDS + " s: " + command);
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        return new ChildRun(p.exitValue(), Files.readAllLines(out, StandardCharsets.UTF_8),
                Files.readAllLines(err, StandardCharsets.UTF_8));
    }

    @Test
    void propertyNameIsTheDocumentedOne() {
        assertEquals("lmcache.native.disable", NativeProbe.DISABLE_PROPERTY);
    }

    @Test
    void disabledNativeAccessFallsBackWithExactlyOneWarning() throws Exception {
        ChildRun run = runChild("-Dlmcache.native.disable=true");
        assertEquals(0, run.exitCode(), run::toString);
        assertEquals(List.of(
                "libcPresent=false",
                "slab0 nativeMapped=false locked=false sizeBytes=8192 aligned=true readBack=1",
                "slab1 nativeMapped=false locked=false sizeBytes=8192 aligned=true readBack=2"), run.stdout(), run::toString);
        List<String> warnings = run.stderrMentioning("lmcache.native.disable");
        assertEquals(1, warnings.size(), run::toString);
        assertTrue(warnings.get(0).contains("WARN"), warnings.get(0));
        assertTrue(warnings.get(0).contains("NativeProbe"), warnings.get(0));
        assertEquals(1, run.stderrMentioning("WARN").size(), run::toString);
    }

    @Test
    void nativeAccessByDefaultWithoutWarnings() throws Exception {
        ChildRun run = runChild();
        assertEquals(0, run.exitCode(), run::toString);
        boolean root = LibcTest.runningAsRoot();
        assertEquals(List.of(
                "libcPresent=true",
                "slab0 nativeMapped=true locked=" + root + " sizeBytes=8192 aligned=true readBack=1",
                "slab1 nativeMapped=true locked=" + root + " sizeBytes=8192 aligned=true readBack=2"), run.stdout(), run::toString);
        assertEquals(List.of(), run.stderrMentioning("lmcache.native.disable"), run::toString);
        if (root) {
            assertEquals(List.of(), run.stderrMentioning("WARN"), run::toString);
        }
    }
}
