package org.lmcache4j.redis;

import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;

/**
 * Small layouts and configs shared by the remote tier's engine tests; connectors are opened the way an
 * engine opens them, from a config through {@link KvConnectors}, so the remote tier comes from its URL
 * through this module's provider.
 */
final class Engines {

    /** 2 layers, 2 KV heads of 8 fp16 elements: 32-byte rows, 128 bytes per token. */
    static final KvLayout SMALL = KvLayout.standard(2, 2, 8, KvDtype.FP16);
    /** Tokens per chunk in the tests: small, so prompts of a few hundred tokens span many chunks. */
    static final int CHUNK = 16;
    /** Bytes of one full chunk of {@link #SMALL}. */
    static final long CHUNK_BYTES = SMALL.chunkBytes(CHUNK);

    private Engines() {
    }

    static LmCacheConfig.Builder config() {
        return LmCacheConfig.builder().modelId("test-model").chunkTokens(CHUNK).maxLocalCpuBytes(64 * CHUNK_BYTES).noLocalDisk();
    }

    static KvConnector open(LmCacheConfig config) {
        return KvConnectors.open(config, SMALL);
    }
}
