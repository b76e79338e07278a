package org.lmcache4j.storage.engine;

import java.util.Arrays;
import java.util.Optional;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.MissCount;
import org.lmcache4j.api.MissReason;
import org.lmcache4j.storage.hash.PromptChunks;

/**
 * Says why no tier holds a chunk of a prompt, from what the connector knows now, the most specific first:
 * the chunk's own last recorded departure (evicted, found corrupt, dropped at store); else, with partial
 * tails, a shorter partial chunk behind the same prefix that would have matched but left (its departure),
 * or one longer than this prompt's chunk (another length: it cannot match); else a tier that refuses its stored KV for another cache identity; else a tier that is
 * failing; else absent. Reasons found during a call itself (a deadline, a read that failed) are noted by
 * the call ({@link MissNote}) and take precedence over all of these.
 */
final class MissClassifier {

    /** One miss: its reason, the tier it concerns ({@link MissCount#NO_TIER} for none), and a sentence. */
    record Miss(MissReason reason, String tier, String detail) {
    }

    /** The chunk that ended a walk, and why. */
    record ChunkMiss(int chunk, Miss miss) {
    }

    private final TierStack tiers;
    private final Departures departures;
    private final PartialTails partialTails; // null when partial tails are off
    private final int chunkTokens;

    MissClassifier(TierStack tiers, Departures departures, PartialTails partialTails, int chunkTokens) {
        this.tiers = tiers;
        this.departures = departures;
        this.partialTails = partialTails;
        this.chunkTokens = chunkTokens;
    }

    /**
     * The miss that ended a walk from chunk {@code firstChunk} at token {@code end}: the first chunk it did
     * not match, with the reason noted during the walk or else classified now; empty when the walk matched
     * every chunk, or ended inside one (a stored partial tail matched: nothing was missed there).
     */
    Optional<ChunkMiss> missed(PromptChunks chunks, int firstChunk, int end, MissNote note) {
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
        return Optional.of(new ChunkMiss(i, note.of(chunks.start(i)).orElseGet(() -> classify(chunks, i))));
    }

    /** Why chunk {@code i} of {@code chunks} is in no tier. */
    Miss classify(PromptChunks chunks, int i) {
        Optional<Miss> departed = departure(chunks.key(i));
        if (departed.isPresent()) {
            return departed.get();
        }
        int own = chunks.end(i) - chunks.start(i);
        int[] tailLengths = partialTails == null ? new int[0] : partialTails.lengths(chunks.parent(i));
        for (int length : tailLengths) {
            if (length < own) { // the walk tried it: had it been held, it would have matched
                departed = departure(chunks.partialKey(i, length));
                if (departed.isPresent()) {
                    return departed.get();
                }
            }
        }
        if (tailLengths.length > 0 && tailLengths[tailLengths.length - 1] > own) {
            return new Miss(MissReason.PARTIAL_TAIL, MissCount.NO_TIER, "partial chunks of " + Arrays.toString(tailLengths)
                    + " tokens were stored behind this prefix; this prompt has " + own + " tokens here");
        }
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
        return new Miss(MissReason.ABSENT, MissCount.NO_TIER, "no tier holds it and none is known to have dropped it");
    }

    private Optional<Miss> departure(ChunkKey key) {
        return departures.of(key).map(d -> new Miss(d.reason(), d.tier(), switch (d.reason()) {
            case EVICTED -> "evicted by the " + d.tier() + " tier to make room";
            case CORRUPT -> "found damaged by the " + d.tier() + " tier, deleted";
            case PINNED_FULL -> "dropped by the store: every " + d.tier()
                    + " page was pinned, being read or held by the same store";
            case TIER_UNHEALTHY -> "dropped by the store: the " + d.tier() + " tier failed to give it a page";
            default -> d.reason().label() + " in the " + d.tier() + " tier";
        }));
    }
}
