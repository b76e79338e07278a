package org.lmcache4j.examples.disagg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.testing.RedisServer;

/**
 * Prefill/decode disaggregation with a real redis-server: a prefill process stores a prompt's KV, a new
 * decode process retrieves it from Redis and generates exactly what computing everything locally does,
 * with byte-identical KV, and prints its TTFT beside the local recompute's, both after a warm-up.
 */
class PrefillDecodeIT {

    @TempDir
    Path cacheDir;

    @Test
    void decodeInAnotherProcessRetrievesThePrefillAndGeneratesIdentically() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            String out1 = run("prefill", redis.url());
            assertTrue(out1.contains("prefill: 700 prompt tokens computed"), out1);
            String out2 = run("decode", redis.url(), "--verify");
            assertTrue(out2.contains("decode: 512 of 700 prompt tokens from the remote tier"), out2);
            assertTrue(out2.contains("cached_tokens=512"), out2);
            assertTrue(out2.contains("kv_identical=true tokens_identical=true"), out2);
            assertTrue(out2.contains("local recompute of the same prompt in this process: TTFT "), out2);
            Matcher ttft = Pattern.compile("ttft_ms_decode=([0-9.]+) ttft_ms_local_recompute=([0-9.]+)").matcher(out2);
            assertTrue(ttft.find(), out2);
            assertTrue(Double.parseDouble(ttft.group(1)) > 0 && Double.parseDouble(ttft.group(2)) > 0, out2);
        }
    }

    private String run(String role, String url, String... extra) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), DisaggCommand.class.getName(), role, "--remote-url", url,
                "--model-size", "tiny", "--prompt-tokens", "700", "--cache-dir", cacheDir.toString()));
        command.addAll(List.of(extra));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, role + " did not finish in 120 s");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
