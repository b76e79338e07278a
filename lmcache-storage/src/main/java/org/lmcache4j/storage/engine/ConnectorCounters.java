package org.lmcache4j.storage.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.MissCount;
import org.lmcache4j.api.MissReason;
import org.lmcache4j.api.TierStats;

/** The counters behind {@link CacheStats}; cheap to bump from many threads. */
final class ConnectorCounters {

    // A lookup's three counts change together, under one lock, so that no snapshot sees its tokens without its hits
    // (tokens - hits, the miss tokens metrics export as a counter, then never goes down).
    private final Object lookupLock = new Object();
    private long lookups;
    private long lookupTokens;
    private long lookupHitTokens;
    final LongAdder storedChunks = new LongAdder();
    final LongAdder storedBytes = new LongAdder();
    final LongAdder storeSkippedChunks = new LongAdder();
    final LongAdder storeDroppedChunks = new LongAdder();
    final LongAdder retrieves = new LongAdder();
    final LongAdder retrievedTokens = new LongAdder();
    final LongAdder retrievedBytes = new LongAdder();
    final LongAdder deadlineCuts = new LongAdder();

    private final Map<String, LongAdder> retrievedTokensByTier = new ConcurrentHashMap<>();
    private final Map<MissClassifier.Miss, LongAdder> misses = new ConcurrentHashMap<>();

    /** Counts one lookup of {@code tokens} that found {@code hit}. */
    void lookedUp(int tokens, int hit) {
        synchronized (lookupLock) {
            lookups++;
            lookupTokens += tokens;
            lookupHitTokens += hit;
        }
    }

    /** Counts {@code tokens} retrieved from {@code tier}. */
    void retrievedFrom(String tier, int tokens) {
        retrievedTokensByTier.computeIfAbsent(tier, t -> new LongAdder()).add(tokens);
    }

    /** Counts one chunk that ended a call's prefix for {@code reason} in {@code tier}. */
    void missed(MissReason reason, String tier) {
        misses.computeIfAbsent(new MissClassifier.Miss(reason, tier, ""), m -> new LongAdder()).increment();
    }

    CacheStats snapshot(long evictedChunks, long promotedChunks, long demotedChunks, long writeBehindDropped,
                        long writeBehindQueued, List<TierStats> tiers) {
        Map<String, Long> byTier = new TreeMap<>();
        tiers.forEach(t -> byTier.put(t.name(), 0L));
        retrievedTokensByTier.forEach((tier, n) -> byTier.put(tier, n.sum()));
        long tierErrors = tiers.stream().mapToLong(TierStats::errors).sum();
        long calls;
        long tokens;
        long hits;
        synchronized (lookupLock) {
            calls = lookups;
            tokens = lookupTokens;
            hits = lookupHitTokens;
        }
        return new CacheStats(calls, tokens, hits, storedChunks.sum(),
                storedBytes.sum(), storeSkippedChunks.sum(), storeDroppedChunks.sum(), retrieves.sum(),
                retrievedTokens.sum(), retrievedBytes.sum(), evictedChunks, promotedChunks, demotedChunks,
                writeBehindDropped, deadlineCuts.sum(), writeBehindQueued, byTier, tierErrors, tiers, missCounts());
    }

    private List<MissCount> missCounts() {
        List<MissCount> out = new ArrayList<>();
        misses.forEach((m, n) -> out.add(new MissCount(m.reason(), m.tier(), n.sum())));
        out.sort(Comparator.comparing(MissCount::reason).thenComparing(MissCount::tier));
        return out;
    }
}
