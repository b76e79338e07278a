package org.lmcache4j.storage.engine;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.lmcache4j.api.MissReason;

/**
 * The reasons one call (lookup, retrieve) found, while it walked, for chunks it could not serve: a
 * deadline that left a stored chunk out, a read or copy that failed. Kept per chunk (by its first token),
 * first note first: a chunk's own key is probed before the partial chunks behind its parent, and what
 * happened to it is what explains the miss. Not thread-safe; one per call.
 */
final class MissNote {

    private final Map<Integer, MissClassifier.Miss> byStart = new HashMap<>();

    /** Notes that the chunk starting at token {@code start} was not served for {@code reason}, concerning {@code tier}. */
    void note(int start, MissReason reason, String tier, String detail) {
        byStart.putIfAbsent(start, new MissClassifier.Miss(reason, tier, detail));
    }

    /** The first reason noted for the chunk starting at token {@code start}. */
    Optional<MissClassifier.Miss> of(int start) {
        return Optional.ofNullable(byStart.get(start));
    }
}
