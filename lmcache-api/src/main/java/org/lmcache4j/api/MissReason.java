package org.lmcache4j.api;

import java.util.Locale;

/**
 * Why a chunk of a prompt was not served. {@code lookup} and {@code retrieve} count the chunk that ended
 * each call's prefix under its reason and tier ({@link CacheStats#misses()}, the metric
 * {@code lmcache_miss_chunks_total{reason,tier}}); {@link KvConnector#explain(int[])} gives the reason of
 * every chunk.
 */
public enum MissReason {
    /** No tier holds the chunk and none is known to have dropped it: never stored here, or forgotten long ago. */
    ABSENT,
    /** A tier evicted it to make room (the tier named with the reason is the last one that held it). */
    EVICTED,
    /** A tier found it damaged (checksum, length or header mismatch), deleted it and served a miss. */
    CORRUPT,
    /**
     * A persistent or shared tier holds KV recorded under another cache identity (model, layout, chunk
     * size, hash, tenant, rank) and refuses to serve it.
     */
    IDENTITY_MISMATCH,
    /** It is stored, but could not be loaded within the call's deadline or faster than the engine recomputes it. */
    DEADLINE,
    /** A tier that may hold it is failing (I/O errors, server unreachable, circuit open). */
    TIER_UNHEALTHY,
    /** The store that should have kept it found every page pinned or being read, and dropped it. */
    PINNED_FULL,
    /** Only a partial chunk of another length is stored behind the same prefix, so this prompt's tail does not match. */
    PARTIAL_TAIL,
    /**
     * An earlier chunk of the prompt missed; keys chain through their prefix, so this chunk cannot be used
     * even where it is present. Only in explanations, never counted.
     */
    AFTER_MISS;

    /** The lower-case name used in metrics and JSON, e.g. {@code identity_mismatch}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
