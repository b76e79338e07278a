package org.lmcache4j.api;

import java.util.List;
import java.util.Map;

/**
 * Counters of one connector since it was opened.
 *
 * @param lookups            lookup calls (including those from lookupAndPin)
 * @param lookupTokens       tokens asked about by lookups
 * @param lookupHitTokens    prefix tokens found by lookups
 * @param storedChunks       chunks copied into the cache
 * @param storedBytes        bytes of those chunks
 * @param storeSkippedChunks chunks a store found already stored
 * @param storeDroppedChunks chunks a store could not place (budget full of pinned or in-use chunks)
 * @param retrieves          retrieve calls
 * @param retrievedTokens    tokens copied into engine memory
 * @param retrievedBytes     bytes copied into engine memory
 * @param evictedChunks      chunks evicted from the fastest tier to make room
 * @param promotedChunks     chunks copied up from a slower tier into the cpu tier (retrieve, prefetch)
 * @param demotedChunks      chunks the cpu tier evicted that were kept in a slower tier
 * @param writeBehindDropped chunks not written behind to a slower tier because its queue was full
 * @param deadlineCuts       lookups and retrieves that left out cached chunks to meet a deadline or the recompute rate
 * @param writeBehindQueued  chunks waiting now to be written behind to slower tiers
 * @param retrievedTokensByTier tokens retrieved from each tier (by tier name)
 * @param tierErrors         tier failures turned into misses
 * @param tiers              each tier, fastest first
 * @param misses             chunks that ended a lookup's or retrieve's prefix, by reason and tier (only
 *                           reasons seen so far)
 */
public record CacheStats(long lookups, long lookupTokens, long lookupHitTokens, long storedChunks, long storedBytes,
                         long storeSkippedChunks, long storeDroppedChunks, long retrieves, long retrievedTokens,
                         long retrievedBytes, long evictedChunks, long promotedChunks, long demotedChunks,
                         long writeBehindDropped, long deadlineCuts, long writeBehindQueued,
                         Map<String, Long> retrievedTokensByTier, long tierErrors, List<TierStats> tiers,
                         List<MissCount> misses) {

    public CacheStats {
        retrievedTokensByTier = Map.copyOf(retrievedTokensByTier);
        tiers = List.copyOf(tiers);
        misses = List.copyOf(misses);
    }

    /** Chunks counted under {@code reason}, over all tiers. */
    public long missChunks(MissReason reason) {
        return misses.stream().filter(m -> m.reason() == reason).mapToLong(MissCount::chunks).sum();
    }

    /** Chunks counted under {@code reason} in {@code tier} ({@link MissCount#NO_TIER} for none). */
    public long missChunks(MissReason reason, String tier) {
        return misses.stream().filter(m -> m.reason() == reason && m.tier().equals(tier)).mapToLong(MissCount::chunks).sum();
    }

    /** True when every tier is healthy. */
    public boolean healthy() {
        return tiers.stream().allMatch(TierStats::healthy);
    }
}
