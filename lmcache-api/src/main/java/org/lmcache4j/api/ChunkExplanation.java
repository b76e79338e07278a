package org.lmcache4j.api;

import java.util.Optional;

/**
 * What a connector would do with one chunk of a prompt now: serve it from a tier, or not, and why.
 *
 * @param index  the chunk's position in the prompt, from 0
 * @param start  its first token
 * @param end    one past its last token
 * @param key    its chunk key (for a partial tail matched behind the same prefix, the partial chunk's key)
 * @param tier   where it would be served from when {@code reason} is empty; else the tier the reason
 *               concerns, or {@link MissCount#NO_TIER}
 * @param reason empty for a hit; else why it would not be served
 * @param detail a sentence for people (e.g. which tiers hold it although an earlier chunk missed)
 */
public record ChunkExplanation(int index, int start, int end, ChunkKey key, String tier, Optional<MissReason> reason,
                               String detail) {

    public ChunkExplanation {
        if (key == null || tier == null || reason == null || detail == null) {
            throw new IllegalArgumentException("key, tier, reason and detail: must not be null");
        }
    }

    /** True when the chunk would be served. */
    public boolean hit() {
        return reason.isEmpty();
    }
}
