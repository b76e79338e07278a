package org.lmcache4j.api;

import java.util.Optional;

/**
 * Something that happened to one chunk in one tier, for cache-aware routing (the way vLLM's KV events
 * feed a router's index of which replica holds which prefix) and for auditing (lossy KV served).
 *
 * @param sequence   position of this event among all of the connector's events, from 1, without gaps
 * @param type       what happened
 * @param tier       the tier it happened in ({@code cpu}, {@code disk}, {@code remote})
 * @param key        the chunk
 * @param parent     the key of the chunk before it in its prompt, when known (stores from a prompt)
 * @param startToken the chunk's first token position in its prompt, or -1 when unknown
 * @param endToken   one past its last token position, or -1 when unknown
 */
public record ChunkEvent(long sequence, Type type, String tier, ChunkKey key, Optional<ChunkKey> parent, int startToken,
                         int endToken) {

    /** What happened to the chunk. */
    public enum Type {
        /** The tier now holds the chunk (a store, a write-behind, a demotion or a promotion). */
        STORED,
        /** The tier dropped the chunk to make room. */
        EVICTED,
        /** Every chunk of every tier was removed ({@code clear}); {@code key} is null and {@code tier} is "*". */
        CLEARED,
        /**
         * A retrieve copied the chunk into engine memory from the tier, and its bytes came from a lossy codec (int8,
         * fp8-e4m3): read from a tier configured with one, or from the cpu tier that such a read promoted it into. Its
         * KV is close to, not equal to, what was stored; {@code startToken}/{@code endToken} are its place in the
         * retrieved prompt. The tier's {@link TierStats#lossyChunksServed} counts it too.
         */
        SERVED_LOSSY
    }

    public ChunkEvent {
        parent = parent == null ? Optional.empty() : parent;
    }
}
