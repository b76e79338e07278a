package org.lmcache4j.examples.jlama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tjake.jlama.model.functions.Generator;
import com.github.tjake.jlama.model.llama.LlamaModel;
import com.github.tjake.jlama.safetensors.Config;
import com.github.tjake.jlama.safetensors.DType;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;

/**
 * The adapter inside Jlama's own {@code generate()} on a small random model: the cache's hits, misses,
 * partial hits and a restart on the same disk tier give the greedy tokens Jlama gives without the cache, and
 * the KV it retrieves is, byte for byte, the KV Jlama computed.
 */
class CachingLlamaModelTest {

    private static final JlamaShape SHAPE = JlamaShape.TINY;
    private static final long SEED = 7;
    private static final int NEW_TOKENS = 6;
    private static final int CHUNK = 256;
    /** 599 characters + BOS: two whole chunks and 88 tokens of a third. */
    private static final String SHARED = Prompts.text(11, 599);
    private static final String PROMPT = SHARED + "What is the first document about?";

    private static LlamaModel plain;

    @TempDir
    Path disk;

    /**
     * Loads Jlama and runs it until its kernels are compiled: the first prefills in a JVM run the Vector API
     * uncompiled, which rounds differently (measured: the first prefill's KV differs in low bits from every
     * later one's), so expected tokens are taken from a warmed-up Jlama, as the cached ones are.
     */
    @BeforeAll
    static void loadPlainJlama() {
        plain = SeededJlama.plain(SHAPE, SEED);
        for (int i = 0; i < 3; i++) {
            Completion.greedy(plain, Prompts.text(99, 700), 2);
        }
    }

    @AfterAll
    static void closePlainJlama() {
        plain.close();
    }

    private KvConnector open() {
        LmCacheConfig config = LmCacheConfig.builder().modelId(SeededJlama.modelId(SHAPE, SEED)).chunkTokens(CHUNK)
                .localDisk(disk).build();
        return KvConnectors.open(config, SeededJlama.layout(SHAPE));
    }

    @Test
    void aMissComputesAndStoresThenAHitRetrievesTheSameKv() {
        Completion expected = Completion.greedy(plain, PROMPT, NEW_TOKENS);
        int n = Completion.promptTokens(PROMPT);
        try (KvConnector cache = open(); CachingLlamaModel model = SeededJlama.cached(SHAPE, SEED, cache)) {
            Completion miss = Completion.greedy(model, PROMPT, NEW_TOKENS, 2 * CHUNK);
            assertEquals(new Counts(n, 0, 2 * CHUNK), Counts.of(miss.prefill()));
            assertEquals(expected.text(), miss.text(), "greedy tokens on a miss");

            Completion hit = Completion.greedy(model, PROMPT, NEW_TOKENS, 2 * CHUNK);
            assertEquals(new Counts(n, 2 * CHUNK, 0), Counts.of(hit.prefill()));
            assertEquals(miss.kvDigest(), hit.kvDigest(), "retrieved KV is what Jlama computed");
            assertEquals(expected.text(), hit.text(), "greedy tokens on a hit");
        }
    }

    @Test
    void aPartialHitRetrievesTheSharedChunksAndComputesTheRest() {
        String other = SHARED.substring(0, 300) + Prompts.text(12, 400);
        Completion expected = Completion.greedy(plain, other, NEW_TOKENS);
        try (KvConnector cache = open(); CachingLlamaModel model = SeededJlama.cached(SHAPE, SEED, cache)) {
            Completion first = Completion.greedy(model, PROMPT, NEW_TOKENS, CHUNK);
            Completion partial = Completion.greedy(model, other, NEW_TOKENS, CHUNK);
            int n = Completion.promptTokens(other);
            assertEquals(new Counts(n, CHUNK, 2 * CHUNK - CHUNK), Counts.of(partial.prefill()),
                    "one shared chunk retrieved; the second, which differs, stored");
            assertEquals(first.kvDigest(), partial.kvDigest());
            assertEquals(expected.text(), partial.text());
        }
    }

    @Test
    void aRestartedEngineHitsWhatTheFirstStoredOnDisk() {
        Completion expected = Completion.greedy(plain, PROMPT, NEW_TOKENS);
        String computed;
        try (KvConnector cache = open(); CachingLlamaModel model = SeededJlama.cached(SHAPE, SEED, cache)) {
            computed = Completion.greedy(model, PROMPT, NEW_TOKENS, 2 * CHUNK).kvDigest();
        }
        try (KvConnector cache = open(); CachingLlamaModel model = SeededJlama.cached(SHAPE, SEED, cache)) {
            Completion restarted = Completion.greedy(model, PROMPT, NEW_TOKENS, 2 * CHUNK);
            assertEquals(2 * CHUNK, restarted.prefill().retrievedTokens());
            assertEquals(computed, restarted.kvDigest());
            assertEquals(expected.text(), restarted.text());
            assertTrue(cache.stats().toString().contains("disk"), cache.stats().toString());
        }
    }

    /** A whole prompt cached (partial last chunk saved too): its last token is still computed, for its logits. */
    @Test
    void theLastTokenIsAlwaysComputed() {
        Completion expected = Completion.greedy(plain, PROMPT, NEW_TOKENS);
        int n = Completion.promptTokens(PROMPT);
        LmCacheConfig config = LmCacheConfig.builder().modelId(SeededJlama.modelId(SHAPE, SEED)).chunkTokens(CHUNK)
                .noLocalDisk().saveUnfullChunk(true).build();
        try (KvConnector cache = KvConnectors.open(config, SeededJlama.layout(SHAPE));
             CachingLlamaModel model = SeededJlama.cached(SHAPE, SEED, cache)) {
            assertEquals(n, Completion.greedy(model, PROMPT, NEW_TOKENS).prefill().storedTokens());
            Completion hit = Completion.greedy(model, PROMPT, NEW_TOKENS);
            assertEquals(n - 1, hit.prefill().retrievedTokens());
            assertEquals(expected.text(), hit.text());
        }
    }

    @Test
    void aConnectorOfAnotherLayoutIsRefused() {
        KvLayout other = KvLayout.standard(SHAPE.layers(), SHAPE.kvHeads(), SHAPE.hidden() / SHAPE.heads(), KvDtype.BF16);
        LmCacheConfig config = LmCacheConfig.builder().modelId("other").noLocalDisk().build();
        try (KvConnector cache = KvConnectors.open(config, other)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SeededJlama.cached(SHAPE, SEED, cache));
            assertTrue(e.getMessage().startsWith("connector layout: "), e.getMessage());
        }
    }

    /**
     * Jlama's pages of many positions (512 here, two layers each) with chunks that cross page ends (96 tokens),
     * and pages backed by files (a model with a working directory, as Jlama's own loader makes every model).
     */
    @Test
    void chunksCrossingPageEndsOfFileBackedPagesRoundTrip(@TempDir Path pagesDir) {
        JlamaShape wide = new JlamaShape("pages", 1024, 1024, 8, 8, 2, 512, 4096);
        String prompt = Prompts.text(21, 1100); // three pages: 1,101 tokens
        int chunk = 96;
        Completion expected;
        try (LlamaModel plainWide = SeededJlama.plain(wide, SEED)) {
            Completion.greedy(plainWide, Prompts.text(98, 400), 2);
            expected = Completion.greedy(plainWide, prompt, NEW_TOKENS);
        }
        LmCacheConfig config = LmCacheConfig.builder().modelId(SeededJlama.modelId(wide, SEED)).chunkTokens(chunk)
                .noLocalDisk().build();
        Config c = wide.config();
        c.setWorkingDirectory(pagesDir.toFile());
        try (KvConnector cache = KvConnectors.open(config, SeededJlama.layout(wide));
             CachingLlamaModel model = new CachingLlamaModel(c, new SeededLlamaWeights(c, SEED), new ByteTokenizer(),
                     DType.F32, DType.F32, Optional.of(DType.BF16), cache)) {
            Completion miss = Completion.greedy(model, prompt, NEW_TOKENS, 11 * chunk);
            assertEquals(11 * chunk, miss.prefill().storedTokens());
            Completion hit = Completion.greedy(model, prompt, NEW_TOKENS, 11 * chunk);
            assertEquals(11 * chunk, hit.prefill().retrievedTokens());
            assertEquals(miss.kvDigest(), hit.kvDigest());
            assertEquals(expected.text(), hit.text());
        }
    }

    /**
     * embed() reads every row of batchForward's output: it never goes through the cache (a prompt under 256
     * tokens: Jlama's embed() returns rows of the last 256-token batch only).
     */
    @Test
    void embedIsNotCached() {
        String prompt = Prompts.text(31, 199);
        LmCacheConfig config = LmCacheConfig.builder().modelId(SeededJlama.modelId(SHAPE, SEED)).chunkTokens(64)
                .noLocalDisk().build();
        try (KvConnector cache = KvConnectors.open(config, SeededJlama.layout(SHAPE));
             CachingLlamaModel model = SeededJlama.cached(SHAPE, SEED, cache)) {
            assertEquals(3 * 64, Completion.greedy(model, prompt, NEW_TOKENS).prefill().storedTokens());
            float[] cached = model.embed(prompt, Generator.PoolingType.AVG);
            float[] own = plain.embed(prompt, Generator.PoolingType.AVG);
            assertEquals(1, cache.stats().retrieves(), "only generate's prefill retrieved");
            // equal but for the last bits where the JIT compiled the kernels between the two calls
            assertArrayEquals(own, cached, 1e-5f);
        }
    }

    private record Counts(int prompt, int retrieved, int stored) {
        static Counts of(Prefill p) {
            return new Counts(p.promptTokens(), p.retrievedTokens(), p.storedTokens());
        }
    }
}
