package org.lmcache4j.api;

import java.util.Optional;

/**
 * Something that happened to one chunk in one tier, for cache-aware routing (the way vLLM's KV events
 * feed a router's index of which replica holds which prefix) and for auditing.
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
        CLEARED
    }

    public ChunkEvent {
        parent = parent == null ? Optional.empty() : parent;
    }
}
