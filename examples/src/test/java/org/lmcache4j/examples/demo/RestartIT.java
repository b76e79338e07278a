package org.lmcache4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.examples.TinyModel;
import org.lmcache4j.examples.engine.Generation;
import org.lmcache4j.examples.engine.KvCheck;
import org.lmcache4j.examples.engine.LlamaEngine;

/**
 * The restart path: this JVM stores a prompt's KV (cpu tier, written behind to disk) and closes the
 * connector; a new JVM opens the same disk tier with an empty cpu tier and serves the prefix from disk,
 * and its KV, logits and tokens equal what this JVM computes without any cache.
 */
class RestartIT {

    private static final long DISK_BYTES = 64L << 20;

    @TempDir
    Path dir;

    @Test
    void aNewProcessGetsTheStoredPrefixFromDiskAndTheSameResults() throws Exception {
        LoadedModel model = LoadedModel.load(TinyModel.file());
        LmCacheConfig config = model.cacheConfig(dir.resolve("kv"), 64L << 20, DISK_BYTES);
        int[] prompt = model.tokenizer().encode(Prompts.document(3, 600) + Prompts.question(4, 40));
        String kvDigest;
        String logitsDigest;
        int[] tokens;
        try (LlamaEngine engine = new LlamaEngine(model.weights(), 2048, 2, 256)) {
            try (Generation plain = engine.generate(prompt, 4)) {
                kvDigest = KvCheck.digest(engine.memory().host(), plain.promptSlots(), prompt.length);
                logitsDigest = KvCheck.digest(plain.firstLogits());
                tokens = plain.tokens();
            }
            try (KvConnector cache = KvConnectors.open(config, engine.kvLayout())) {
                engine.generate(prompt, 1, cache, done -> { }).close();
            }
        }
        Properties request = new Properties();
        request.setProperty("model", TinyModel.file().toString());
        request.setProperty("kvDir", dir.resolve("kv").toString());
        request.setProperty("cpuBytes", Long.toString(64L << 20));
        request.setProperty("diskBytes", Long.toString(DISK_BYTES));
        request.setProperty("prompt", RestartChild.join(prompt));
        request.setProperty("newTokens", "4");
        request.setProperty("threads", "2");
        request.setProperty("prefillChunk", "128");
        request.setProperty("warmupTokens", "300");
        Properties report = RestartProbe.run(dir, request);

        assertEquals("0", report.getProperty("cpuChunksAtOpen"), "a new process starts with an empty cpu tier");
        assertEquals("512", report.getProperty("cachedTokens"));
        assertEquals("disk", report.getProperty("hitTier"));
        assertEquals("2", report.getProperty("promotedChunks"), "both chunks came up from disk");
        assertEquals(kvDigest, report.getProperty("kvSha256"), "KV in the new process equals KV computed here without cache");
        assertEquals(logitsDigest, report.getProperty("logitsSha256"));
        assertArrayEquals(tokens, RestartChild.tokens(report.getProperty("tokens")));
        long kvBytes = 512L * LlamaEngine.kvLayout(model.weights().shape()).bytesPerToken();
        assertTrue(Long.parseLong(report.getProperty("rawBytes")) >= kvBytes,
                "the baseline read the two chunk files whole: " + report.getProperty("rawBytes") + " bytes");
        assertTrue(Double.parseDouble(report.getProperty("rawMs")) > 0, report.toString());
        assertTrue(report.getProperty("rawMethod").startsWith("FileChannel.read of the 2 chunk files"), report.getProperty("rawMethod"));
        assertTrue(Long.parseLong(report.getProperty("retrieveNanos")) > 0, report.toString());
        assertTrue(report.getProperty("rawCacheStateHow").contains("posix_fadvise"), "cold by default: " + report);

        request.setProperty("diskCacheState", "warm");
        Properties warm = RestartProbe.run(dir, request);
        assertEquals("512", warm.getProperty("cachedTokens"));
        assertEquals(kvDigest, warm.getProperty("kvSha256"));
        assertTrue(warm.getProperty("rawCacheStateHow").startsWith("every chunk file read once, untimed, before each read"),
                warm.getProperty("rawCacheStateHow"));
        assertTrue(Double.parseDouble(warm.getProperty("rawMs")) > 0, warm.toString());
    }
}
