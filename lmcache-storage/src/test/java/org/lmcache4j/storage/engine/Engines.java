package org.lmcache4j.storage.engine;

import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.SeededKv;

/** Small layouts and configs shared by the storage tests. */
public final class Engines {

    /** 2 layers, 2 KV heads of 8 fp16 elements: 32-byte rows, 128 bytes per token. */
    public static final KvLayout SMALL = KvLayout.standard(2, 2, 8, KvDtype.FP16);
    /** Tokens per chunk in the tests: small, so prompts of a few hundred tokens span many chunks. */
    public static final int CHUNK = 16;
    /** Bytes of one full chunk of {@link #SMALL}. */
    public static final long CHUNK_BYTES = SMALL.chunkBytes(CHUNK);

    private Engines() {
    }

    public static LmCacheConfig.Builder config() {
        return LmCacheConfig.builder().modelId("test-model").chunkTokens(CHUNK).maxLocalCpuBytes(64 * CHUNK_BYTES).noLocalDisk();
    }

    /** Stores a prompt of {@code chunks} full chunks of seeded tokens (KV from {@link SeededKv}); returns its tokens. */
    static int[] storePrompt(TieredCacheEngine engine, java.lang.foreign.Arena arena, long seed, int chunks) {
        int[] tokens = SeededKv.tokens(seed, chunks * CHUNK);
        org.lmcache4j.api.HostKvMemory kv = SeededKv.contiguous(arena, SMALL, tokens.length);
        int[] slots = SeededKv.identitySlots(tokens.length);
        SeededKv.fill(kv, tokens, slots);
        engine.store(tokens, kv, slots);
        return tokens;
    }

    static TieredCacheEngine open(LmCacheConfig config) {
        return new TieredCacheEngine(config, SMALL);
    }
}
