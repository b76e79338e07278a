package org.lmcache4j.storage.keys;

import java.util.ArrayList;
import java.util.List;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.storage.engine.KvArguments;
import org.lmcache4j.storage.hash.ChunkHasher;
import org.lmcache4j.storage.hash.PromptChunks;

/**
 * Computes the chunk keys of a prompt exactly as a connector with the same config and layout does,
 * without opening one: what a cache-aware router needs to match a new request against the
 * {@link org.lmcache4j.api.ChunkEvent}s replicas publish. Thread-safe.
 */
public final class PrefixKeys {

    private final ChunkHasher hasher;
    private final int chunkTokens;
    private final boolean partialTail;

    private PrefixKeys(LmCacheConfig config, KvLayout layout) {
        this.hasher = ChunkHasher.create(config.hashAlgorithm(), config.namespace(layout));
        this.chunkTokens = config.chunkTokens();
        this.partialTail = config.saveUnfullChunk();
    }

    /** The keys of connectors opened with {@code config} for {@code layout}. */
    public static PrefixKeys of(LmCacheConfig config, KvLayout layout) {
        if (config == null || layout == null) {
            throw new IllegalArgumentException("config and layout: must not be null");
        }
        return new PrefixKeys(config, layout);
    }

    /** The keys of the prompt's chunks, in order (a partial tail only when the config saves unfull chunks). */
    public List<ChunkKey> keys(int[] tokens) {
        KvArguments.requireTokens(tokens);
        PromptChunks chunks = new PromptChunks(hasher, tokens, chunkTokens, partialTail);
        List<ChunkKey> keys = new ArrayList<>(chunks.count());
        for (int i = 0; i < chunks.count(); i++) {
            keys.add(chunks.key(i));
        }
        return keys;
    }

    /** Tokens per chunk. */
    public int chunkTokens() {
        return chunkTokens;
    }
}
