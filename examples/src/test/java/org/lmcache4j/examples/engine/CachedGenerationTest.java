package org.lmcache4j.examples.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.StoreHandle;
import org.lmcache4j.examples.TinyModel;

/**
 * The engine with the connector, as vLLM uses LMCache: a shared prefix under a new suffix is retrieved
 * instead of computed, and the results are exactly those of computing everything.
 */
class CachedGenerationTest {

    private static final int CHUNK = 256;

    @TempDir
    Path dir;

    /** The cpu tier alone: nothing outlives the connector (the embedded default would add a disk tier in ~/.cache). */
    private static LmCacheConfig cpuOnly() {
        return LmCacheConfig.builder().modelId("tiny-test").maxLocalCpuBytes(64L << 20).localDisk(null).build();
    }

    private static int[] tokens(long seed, int n) {
        return new SplittableRandom(seed).ints(n, 0, 256).toArray();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void aSharedPrefixUnderNewSuffixesHitsAndChangesNothing() {
        int[] prefix = tokens(1, 600);
        try (LlamaEngine engine = new LlamaEngine(TinyModel.weights(), 4096, 2, 128);
             KvConnector cache = KvConnectors.open(cpuOnly(), engine.kvLayout())) {
            try (Generation first = engine.generate(concat(prefix, tokens(2, 50)), 4, cache, done -> { })) {
                assertEquals(0, first.cachedTokens());
                assertEquals("none", first.hitTier());
                assertEquals(2 * CHUNK, first.storedTokens(), "full chunks of the first prompt");
            }
            for (long suffixSeed = 3; suffixSeed <= 4; suffixSeed++) {
                int[] prompt = concat(prefix, tokens(suffixSeed, 40 + (int) suffixSeed));
                try (Generation plain = engine.generate(prompt, 6);
                     Generation cached = engine.generate(prompt, 6, cache, done -> { })) {
                    assertEquals(2 * CHUNK, cached.cachedTokens(), "the shared prefix's full chunks");
                    assertEquals("cpu", cached.hitTier());
                    assertArrayEquals(plain.firstLogits(), cached.firstLogits(), "logits, bit for bit");
                    assertArrayEquals(plain.tokens(), cached.tokens(), "generated tokens");
                    var kv = engine.memory().host();
                    assertTrue(KvCheck.identical(kv, cached.promptSlots(), kv, plain.promptSlots(), cached.cachedTokens()),
                            "retrieved KV equals recomputed KV");
                    assertTrue(KvCheck.identical(kv, cached.promptSlots(), kv, plain.promptSlots(), prompt.length),
                            "KV computed after the retrieved prefix equals KV computed from scratch");
                }
            }
        }
    }

    /**
     * A layerwise retrieve (each layer of the prefix awaited just before that layer's attention, later layers
     * still loading) gives the logits, tokens and KV of a plain retrieve, bit for bit, over several prefill passes.
     */
    @Test
    void aLayerwiseRetrieveGivesThePlainRetrievesLogitsBitForBit() {
        int[] prompt = concat(tokens(11, 3 * CHUNK), tokens(12, 70));
        try (LlamaEngine engine = new LlamaEngine(TinyModel.weights(), 4096, 2, 32);
             KvConnector cache = KvConnectors.open(cpuOnly(), engine.kvLayout())) {
            engine.generate(prompt, 1, cache, done -> { }).close(); // stores the prefix
            try (Generation plain = engine.generate(prompt, 6, cache, done -> { }, false);
                 Generation layerwise = engine.generate(prompt, 6, cache, done -> { }, true)) {
                assertEquals(3 * CHUNK, plain.cachedTokens());
                assertEquals(3 * CHUNK, layerwise.cachedTokens());
                assertArrayEquals(plain.firstLogits(), layerwise.firstLogits(), "logits, bit for bit");
                assertArrayEquals(plain.tokens(), layerwise.tokens(), "generated tokens");
                var kv = engine.memory().host();
                assertTrue(KvCheck.identical(kv, layerwise.promptSlots(), kv, plain.promptSlots(), prompt.length),
                        "retrieved and computed KV");
            }
        }
    }

    /**
     * The engine stores with storeAsync and ends the request only when the handle is done: here the
     * connector reports the store done 300 ms after its copy finished, and the request waits for it (so its
     * blocks cannot be freed, nor its chunks missed by the next lookup, before).
     */
    @Test
    void theRequestEndsOnlyWhenItsBackgroundStoreIsDone() {
        int[] prompt = tokens(8, CHUNK + 10);
        try (LlamaEngine engine = new LlamaEngine(TinyModel.weights(), 2048, 2, 128);
             KvConnector real = KvConnectors.open(cpuOnly(), engine.kvLayout())) {
            List<String> calls = new ArrayList<>();
            long[] reportedNanos = new long[1];
            KvConnector late = (KvConnector) Proxy.newProxyInstance(KvConnector.class.getClassLoader(),
                    new Class<?>[] {KvConnector.class}, (proxy, method, args) -> {
                        if (method.getName().equals("storeAsync")) {
                            calls.add("storeAsync");
                            StoreHandle copying = (StoreHandle) method.invoke(real, args);
                            return StoreHandle.of(copying.future().thenApplyAsync(n -> {
                                reportedNanos[0] = System.nanoTime();
                                return n;
                            }, CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS)));
                        }
                        if (method.getName().equals("store")) {
                            calls.add("store");
                        }
                        return method.invoke(real, args);
                    });
            try (Generation g = engine.generate(prompt, 3, late, done -> { })) {
                long returnedNanos = System.nanoTime();
                assertEquals(List.of("storeAsync"), calls);
                assertEquals(CHUNK, g.storedTokens(), "the handle's result");
                assertTrue(reportedNanos[0] != 0 && reportedNanos[0] <= returnedNanos, "returned after the store was done");
                assertTrue(g.storeNanos() >= TimeUnit.MILLISECONDS.toNanos(250), "the wait counts as store time: " + g.storeNanos());
                assertEquals(CHUNK, real.lookup(prompt));
            }
        }
    }

    @Test
    void theLastPromptTokenIsAlwaysComputed() {
        int[] prompt = tokens(5, 2 * CHUNK); // exactly two chunks: both stored, but only one may be retrieved
        try (LlamaEngine engine = new LlamaEngine(TinyModel.weights(), 2048, 2, 128);
             KvConnector cache = KvConnectors.open(cpuOnly(), engine.kvLayout())) {
            engine.generate(prompt, 2, cache, done -> { }).close();
            assertEquals(2 * CHUNK, cache.lookup(prompt));
            try (Generation plain = engine.generate(prompt, 3);
                 Generation cached = engine.generate(prompt, 3, cache, done -> { })) {
                assertEquals(CHUNK, cached.cachedTokens(), "lookup capped at length - 1, then whole chunks");
                assertArrayEquals(plain.firstLogits(), cached.firstLogits());
                assertArrayEquals(plain.tokens(), cached.tokens());
            }
        }
    }

    @Test
    void aConnectorOpenedAgainOnTheSameDiskServesTheHitFromDisk() {
        LmCacheConfig config = cpuOnly().toBuilder().localDisk(dir.resolve("kv")).maxLocalDiskBytes(64L << 20).build();
        int[] prompt = concat(tokens(6, 300), tokens(7, 20));
        try (LlamaEngine engine = new LlamaEngine(TinyModel.weights(), 2048, 2, 128)) {
            try (KvConnector cache = KvConnectors.open(config, engine.kvLayout())) {
                engine.generate(prompt, 2, cache, done -> { }).close();
            } // close drains the write-behind queue to disk
            try (KvConnector reopened = KvConnectors.open(config, engine.kvLayout());
                 Generation plain = engine.generate(prompt, 3);
                 Generation cached = engine.generate(prompt, 3, reopened, done -> { })) {
                assertEquals(CHUNK, cached.cachedTokens());
                assertEquals("disk", cached.hitTier());
                assertArrayEquals(plain.firstLogits(), cached.firstLogits());
                var kv = engine.memory().host();
                assertTrue(KvCheck.identical(kv, cached.promptSlots(), kv, plain.promptSlots(), prompt.length));
            }
        }
    }
}
