package org.lmcache4j.storage.hash;

import org.lmcache4j.api.ChunkKey;

/**
 * The keys of segments ({@link org.lmcache4j.api.KvSegment}): KV cached on its own, keyed by its own tokens.
 * This is a persistent format, like {@link ChunkHasher}'s:
 *
 * <pre>
 * domain        = derive(namespace root, "lmcache4j/segment/1")
 * identity      = H(domain || the segment's tokens as little-endian int32 || token count)
 * manifest root = derive(identity, "manifest")             one chunk: where the cached KV was computed
 * kv root(p)    = derive(identity, "kv", p)                the KV computed at positions p, p+1, ...
 * kv chunk(i)   = H(kv chunk(i-1) || tokens of chunk i || count), the last chunk partial
 * </pre>
 *
 * The position is part of the KV chunks' keys, so a chunk's bytes always belong to the position its key
 * names: a manifest that is stale (it names a position whose chunks are gone) can only cause a miss, never KV
 * of another position. Segment keys never equal prefix keys: every chain starts from a derived root.
 * Thread-safe.
 */
public final class SegmentKeys {

    private static final String DOMAIN = "lmcache4j/segment/1";

    private final ChunkHasher hasher;
    private final int chunkTokens;
    private final ChunkKey domain;

    public SegmentKeys(ChunkHasher hasher, int chunkTokens) {
        this.hasher = hasher;
        this.chunkTokens = chunkTokens;
        this.domain = hasher.derive(hasher.root(), DOMAIN);
    }

    /** The identity of the segment {@code tokens[from, to)}: its tokens and the namespace, not its position. */
    public ChunkKey identity(int[] tokens, int from, int to) {
        return hasher.next(domain, tokens, from, to);
    }

    /** The manifest of a segment: one chunk of {@code manifestTokens} tokens' worth of bytes. */
    public PromptChunks manifest(ChunkKey identity, int manifestTokens) {
        return new PromptChunks(hasher, hasher.derive(identity, "manifest"), new int[manifestTokens], manifestTokens, true);
    }

    /** The chunks of a segment's KV computed at positions {@code position, position + 1, ...}. */
    public PromptChunks kv(ChunkKey identity, int position, int[] segmentTokens) {
        return new PromptChunks(hasher, hasher.derive(identity, "kv", position), segmentTokens, chunkTokens, true);
    }
}
