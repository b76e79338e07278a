package org.lmcache4j.examples.jlama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code bin/lmcache jlama-demo --json F} end to end on the small model: the fresh-JVM request runs in a real
 * second JVM on the disk tier the first one wrote, and the JSON carries the fields the README documents
 * (ttft_ms_no_cache, ttft_ms_cache, ttft_ms_restart, tokens_identical, prefix_kv_identical). Its speed is not
 * asserted (the demo prints it); the checks are.
 */
class JlamaDemoIT {

    @TempDir
    Path dir;

    @Test
    void theDemoChecksTokensAndKvAndWritesItsJson() throws Exception {
        Path json = dir.resolve("jlama.json");
        int exit = new CommandLine(new JlamaDemoCommand()).execute("--model-size", "tiny", "--prefix-tokens", "768",
                "--warmup-tokens", "300", "--new-tokens", "4", "--cache-dir", dir.resolve("cache").toString(),
                "--json", json.toString());
        assertEquals(0, exit, "exit code: 0 when tokens and KV are identical");
        String j = Files.readString(json);
        assertEquals("true", field(j, "tokens_identical"));
        assertEquals("true", field(j, "prefix_kv_identical"));
        assertEquals("768", field(j, "retrieved_tokens_cache"));
        assertEquals("768", field(j, "retrieved_tokens_restart"));
        assertEquals("\"cpu\"", field(j, "hit_tier_cache"));
        assertEquals("\"disk\"", field(j, "hit_tier_restart"));
        for (String ttft : new String[] {"ttft_ms_no_cache", "ttft_ms_cold", "ttft_ms_cache", "ttft_ms_restart"}) {
            assertTrue(Double.parseDouble(field(j, ttft)) > 0, ttft);
        }
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\": (\"[^\"]*\"|[^,\\n]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }
}
