package org.lmcache4j.storage.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lmcache4j.api.HashAlgorithm;

/**
 * Two separate JVM processes compute identical keys for the same prompt (LMCache's most reported bug
 * was zero cross-process hits from a seeded hash). Each child gets a different identity hash seed.
 */
class CrossProcessKeysIT {

    @ParameterizedTest
    @EnumSource(HashAlgorithm.class)
    void twoJvmsComputeIdenticalKeys(HashAlgorithm algorithm) throws Exception {
        List<String> first = runChild(algorithm, "-XX:hashCode=2");
        List<String> second = runChild(algorithm, "-XX:hashCode=5");
        List<String> here = Arrays.stream(ChunkHasherTest.keys(algorithm, ChunkHasherTest.NAMESPACE,
                ChunkHasherTest.goldenTokens(), 64)).map(Object::toString).toList();
        assertEquals(8, first.size(), "child printed " + first);
        assertEquals(first, second);
        assertEquals(here, first);
    }

    private static List<String> runChild(HashAlgorithm algorithm, String jvmFlag) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-XX:+UnlockExperimentalVMOptions", jvmFlag, "-cp", System.getProperty("java.class.path"),
                KeyPrinter.class.getName(), algorithm.name())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, "child JVM did not finish in 60 s");
        assertEquals(0, p.exitValue());
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
}
