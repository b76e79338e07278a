package org.lmcache4j.storage;

import java.util.Optional;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.MissReason;

/**
 * The reason one call (lookup, retrieve) found for the chunk it could not serve, noted while it walked:
 * a deadline that left a stored chunk out, a read or copy that failed. Only the last chunk probed counts
 * (the walk stops at the first miss). Not thread-safe; one per call.
 */
final class MissNote {

    private ChunkKey key;
    private MissClassifier.Miss miss;

    /** Notes that {@code key} was not served for {@code reason}, concerning {@code tier}. */
    void note(ChunkKey key, MissReason reason, String tier, String detail) {
        this.key = key;
        this.miss = new MissClassifier.Miss(reason, tier, detail);
    }

    /** The reason noted for {@code key}, if the last note was about it. */
    Optional<MissClassifier.Miss> of(ChunkKey key) {
        return key.equals(this.key) ? Optional.of(miss) : Optional.empty();
    }
}
