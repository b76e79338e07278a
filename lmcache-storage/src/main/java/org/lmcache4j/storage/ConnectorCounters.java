package org.lmcache4j.storage;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.TierStats;

/** The counters behind {@link CacheStats}; cheap to bump from many threads. */
final class ConnectorCounters {

    final LongAdder lookups = new LongAdder();
    final LongAdder lookupTokens = new LongAdder();
    final LongAdder lookupHitTokens = new LongAdder();
    final LongAdder storedChunks = new LongAdder();
    final LongAdder storedBytes = new LongAdder();
    final LongAdder storeSkippedChunks = new LongAdder();
    final LongAdder storeDroppedChunks = new LongAdder();
    final LongAdder retrieves = new LongAdder();
    final LongAdder retrievedTokens = new LongAdder();
    final LongAdder retrievedBytes = new LongAdder();
    final LongAdder deadlineCuts = new LongAdder();

    CacheStats snapshot(long evictedChunks, long promotedChunks, long demotedChunks, long writeBehindDropped,
                        List<TierStats> tiers) {
        long tierErrors = tiers.stream().mapToLong(TierStats::errors).sum();
        return new CacheStats(lookups.sum(), lookupTokens.sum(), lookupHitTokens.sum(), storedChunks.sum(),
                storedBytes.sum(), storeSkippedChunks.sum(), storeDroppedChunks.sum(), retrieves.sum(),
                retrievedTokens.sum(), retrievedBytes.sum(), evictedChunks, promotedChunks, demotedChunks,
                writeBehindDropped, deadlineCuts.sum(), tierErrors, tiers);
    }
}
