package org.lmcache4j.storage;

import java.util.Optional;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.MissCount;
import org.lmcache4j.api.MissReason;

/**
 * Says why no tier holds a chunk, from what the connector knows now, most actionable first: a tier that
 * refuses its stored KV for another cache identity; a tier that is failing; the chunk's last recorded
 * departure (evicted, found corrupt, dropped at store); a partial chunk of another length behind the same
 * prefix; else absent. Reasons found during a call itself (a deadline, a read that failed) are noted by
 * the call ({@link MissNote}) and take precedence over these.
 */
final class MissClassifier {

    /** One miss: its reason, the tier it concerns ({@link MissCount#NO_TIER} for none), and a sentence. */
    record Miss(MissReason reason, String tier, String detail) {
    }

    private final TierStack tiers;
    private final Departures departures;
    private final PartialTails partialTails; // null when partial tails are off
    private final int chunkTokens;

    MissClassifier(TierStack tiers, Departures departures, PartialTails partialTails, int chunkTokens) {
        this.tiers = tiers;
        this.chunkTokens = chunkTokens;
        this.departures = departures;
        this.partialTails = partialTails;
    }

    /**
     * The miss that ended a walk from chunk {@code firstChunk} at token {@code end}: the first chunk it did
     * not match, with the reason noted during the walk or else classified now; empty when the walk matched
     * every chunk, or ended inside one (a stored partial tail matched: nothing was missed there).
     */
    Optional<Miss> missed(PromptChunks chunks, int firstChunk, int end, MissNote note) {
        int i;
        if (end == 0) {
            i = firstChunk;
        } else if (end % chunkTokens != 0) {
            return Optional.empty();
        } else {
            i = Math.max(firstChunk, end / chunkTokens);
        }
        if (i >= chunks.count()) {
            return Optional.empty();
        }
        ChunkKey key = chunks.key(i);
        return Optional.of(note.of(key).orElseGet(() -> classify(key, chunks.parent(i))));
    }

    /** Why chunk {@code key} (behind {@code parent}) is in no tier. */
    Miss classify(ChunkKey key, ChunkKey parent) {
        for (GuardedTier t : tiers.all()) {
            Optional<String> refused = t.identityMismatch();
            if (refused.isPresent()) {
                return new Miss(MissReason.IDENTITY_MISMATCH, t.name(), refused.get());
            }
        }
        for (GuardedTier t : tiers.all()) {
            if (t.failing()) {
                return new Miss(MissReason.TIER_UNHEALTHY, t.name(), "the " + t.name()
                        + " tier is failing (" + t.errors() + " errors so far); what it holds cannot be read now");
            }
        }
        Optional<Departures.Departure> departed = departures.of(key);
        if (departed.isPresent()) {
            Departures.Departure d = departed.get();
            return new Miss(d.reason(), d.tier(), switch (d.reason()) {
                case EVICTED -> "evicted by the " + d.tier() + " tier to make room";
                case CORRUPT -> "found damaged by the " + d.tier() + " tier, deleted";
                case PINNED_FULL -> "dropped by the store: every " + d.tier()
                        + " page was pinned, being read or held by the same store";
                default -> d.reason().label() + " in the " + d.tier() + " tier";
            });
        }
        if (partialTails != null && partialTails.lengths(parent).length > 0) {
            return new Miss(MissReason.PARTIAL_TAIL, MissCount.NO_TIER, "only partial chunks of "
                    + java.util.Arrays.toString(partialTails.lengths(parent)) + " tokens are stored behind this prefix");
        }
        return new Miss(MissReason.ABSENT, MissCount.NO_TIER, "no tier holds it and none is known to have dropped it");
    }
}
