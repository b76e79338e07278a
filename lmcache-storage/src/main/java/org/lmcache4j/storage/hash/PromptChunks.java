package org.lmcache4j.storage.hash;

import java.util.Arrays;
import org.lmcache4j.api.ChunkKey;

/**
 * The chunks of one prompt and their keys, hashed lazily and at most once: a lookup that misses on the
 * first chunk hashes one chunk, not the whole prompt. Not thread-safe; one per call.
 */
public final class PromptChunks {

    private final ChunkHasher hasher;
    private final ChunkKey root;
    private final int[] tokens;
    private final int chunkTokens;
    private final int count;
    private final ChunkKey[] keys;

    /**
     * @param includePartialTail whether a trailing partial chunk counts as a chunk
     */
    public PromptChunks(ChunkHasher hasher, int[] tokens, int chunkTokens, boolean includePartialTail) {
        this(hasher, hasher.root(), tokens, chunkTokens, includePartialTail);
    }

    /** Chunks chained from {@code root} instead of the namespace's root (a segment's chunks: {@link SegmentKeys}). */
    PromptChunks(ChunkHasher hasher, ChunkKey root, int[] tokens, int chunkTokens, boolean includePartialTail) {
        this.hasher = hasher;
        this.root = root;
        this.tokens = tokens;
        this.chunkTokens = chunkTokens;
        int full = tokens.length / chunkTokens;
        this.count = full + (includePartialTail && tokens.length % chunkTokens != 0 ? 1 : 0);
        this.keys = new ChunkKey[count];
    }

    /** Number of tokens of the prompt. */
    public int tokens() {
        return tokens.length;
    }

    /** Number of chunks. */
    public int count() {
        return count;
    }

    /** First token of chunk {@code i}. */
    public int start(int i) {
        return i * chunkTokens;
    }

    /** One past the last token of chunk {@code i}. */
    public int end(int i) {
        return Math.min(tokens.length, (i + 1) * chunkTokens);
    }

    /** The key of chunk {@code i}, hashing the chunks before it if they are not hashed yet. */
    public ChunkKey key(int i) {
        if (keys[i] == null) {
            int known = i;
            while (known > 0 && keys[known - 1] == null) {
                known--;
            }
            for (int j = known; j <= i; j++) {
                keys[j] = hasher.next(parent(j), tokens, start(j), end(j));
            }
        }
        return keys[i];
    }

    /** The key of the chunk before chunk {@code i} (the root for chunk 0). */
    public ChunkKey parent(int i) {
        return i == 0 ? root : key(i - 1);
    }

    /** The key of a partial chunk {@code tokens[start(i), start(i) + length)} behind chunk {@code i - 1}. */
    public ChunkKey partialKey(int i, int length) {
        return hasher.next(parent(i), tokens, start(i), start(i) + length);
    }

    /** Tokens left from the start of chunk {@code i} to the end of the prompt. */
    public int remaining(int i) {
        return tokens.length - start(i);
    }

    @Override
    public String toString() {
        return "PromptChunks[" + tokens.length + " tokens, " + count + " chunks, hashed "
                + Arrays.stream(keys).filter(k -> k != null).count() + "]";
    }
}
