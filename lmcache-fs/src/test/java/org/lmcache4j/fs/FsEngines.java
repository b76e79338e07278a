package org.lmcache4j.fs;

import java.lang.foreign.Arena;
import java.util.Arrays;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.StorageTiers;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.testing.SeededKv;

/**
 * Engines of the fs tier's engine tests, opened as an engine opens them: from a config whose
 * {@code tiers} names an {@code fs://} URL, reached through this module's provider. Prompts are a shared
 * system prefix of {@link #PREFIX_CHUNKS} chunks and {@link #OWN_CHUNKS} chunks of their own, their KV
 * computed from the tokens ({@link SeededKv}), so any process knows what every chunk must hold.
 */
final class FsEngines {

    /** 2 layers, 2 KV heads of 8 fp16 elements: 128 bytes per token. */
    static final KvLayout LAYOUT = KvLayout.standard(2, 2, 8, KvDtype.FP16);
    /** Tokens per chunk: 64, so chunks of 8 KiB. */
    static final int CHUNK = 64;
    static final long CHUNK_BYTES = LAYOUT.chunkBytes(CHUNK);
    static final int PREFIX_CHUNKS = 2;
    static final int OWN_CHUNKS = 6;
    static final int PROMPT_TOKENS = (PREFIX_CHUNKS + OWN_CHUNKS) * CHUNK;

    private FsEngines() {
    }

    /** An engine with a cpu tier of {@code cpuChunks} chunks above the fs tier at {@code url}. */
    static KvConnector open(String url, int cpuChunks) {
        return KvConnectors.open(config(cpuChunks).tiers(url).build(), LAYOUT);
    }

    private static LmCacheConfig.Builder config(int cpuChunks) {
        return LmCacheConfig.builder().modelId("fs-engine-test").chunkTokens(CHUNK).maxLocalCpuBytes(cpuChunks * CHUNK_BYTES);
    }

    /** The fs tier at {@code url} as these engines open it (their identity), without an engine. */
    static SharedFsTier openTier(String url) {
        return (SharedFsTier) StorageTiers.open(url, config(1).build().identity(LAYOUT), new TierOptions(CHUNK_BYTES, 0));
    }

    /** The fs tier's stats in {@code stats}. */
    static TierStats fs(CacheStats stats) {
        return stats.tiers().stream().filter(t -> t.name().equals(SharedFsTier.NAME)).findFirst().orElseThrow();
    }

    /** A seeded prompt: tokens, their KV in contiguous memory at identity slots. */
    record Prompt(long seed, int[] tokens, HostKvMemory kv, int[] slots) {

        static Prompt of(Arena arena, long seed) {
            int[] prefix = SeededKv.tokens(-1, PREFIX_CHUNKS * CHUNK);
            int[] own = SeededKv.tokens(seed, OWN_CHUNKS * CHUNK);
            int[] tokens = Arrays.copyOf(prefix, PROMPT_TOKENS);
            System.arraycopy(own, 0, tokens, prefix.length, own.length);
            HostKvMemory kv = SeededKv.contiguous(arena, LAYOUT, PROMPT_TOKENS);
            int[] slots = SeededKv.identitySlots(PROMPT_TOKENS);
            SeededKv.fill(kv, tokens, slots);
            return new Prompt(seed, tokens, kv, slots);
        }

        int store(KvConnector engine) {
            return engine.store(tokens, kv, slots);
        }

        /**
         * Retrieves this prompt through {@code engine} into fresh paged memory at shuffled slots and compares
         * every byte of the hit with the KV computed from the tokens.
         *
         * @return tokens retrieved
         * @throws AssertionError naming the first differing byte
         */
        int retrieveAndCheck(KvConnector engine) {
            try (Arena arena = Arena.ofConfined()) {
                HostKvMemory target = SeededKv.paged(arena, LAYOUT, PROMPT_TOKENS / 16 + 1, 16);
                int[] targetSlots = SeededKv.shuffledSlots(seed, PROMPT_TOKENS, target.numSlots());
                int got = engine.retrieve(tokens, target, targetSlots);
                SeededKv.assertSameKv(kv, slots, target, targetSlots, 0, got);
                return got;
            }
        }
    }
}
