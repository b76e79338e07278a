package org.lmcache4j.storage.engine;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Optional;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.MissReason;

/**
 * The last known reason each recently dropped chunk left the cache: evicted by a tier, found corrupt by
 * a tier, or dropped by the store that should have kept it. A miss is explained from here when no tier
 * holds the chunk. Bounded (the least recently recorded are forgotten, and their misses are then
 * {@link MissReason#ABSENT}); thread-safe; a later departure of a key replaces an earlier one, so a chunk
 * evicted from the cpu tier and later from the disk tier is reported as evicted by the disk tier.
 */
final class Departures {

    /** Keys remembered: about 150 bytes each, so the default costs at most ~10 MiB. */
    static final int DEFAULT_CAPACITY = 1 << 16;

    /** Why one chunk left, and the tier it left. */
    record Departure(MissReason reason, String tier) {
    }

    private final Cache<ChunkKey, Departure> recent;

    Departures(int capacity) {
        this.recent = Caffeine.newBuilder().maximumSize(capacity).build();
    }

    /** Records that {@code tier} dropped {@code key} for {@code reason}. */
    void record(ChunkKey key, MissReason reason, String tier) {
        recent.put(key, new Departure(reason, tier));
    }

    /** Why {@code key} left, if it is remembered. */
    Optional<Departure> of(ChunkKey key) {
        return Optional.ofNullable(recent.getIfPresent(key));
    }

    /** Forgets everything (the cache was cleared: earlier departures no longer explain anything). */
    void clear() {
        recent.invalidateAll();
    }
}
