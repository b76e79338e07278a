package org.lmcache4j.storage.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.lmcache4j.api.ChunkExplanation;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.LookupExplanation;
import org.lmcache4j.api.MissCount;
import org.lmcache4j.api.MissReason;
import org.lmcache4j.storage.hash.PromptChunks;

/**
 * Builds a {@link LookupExplanation}: walks a prompt's chunks as a lookup does (the same probe, so the
 * same prefix), then gives the first missed chunk its reason and says, for each chunk after it, which
 * tiers hold it although it cannot be used. Reads only presence: no data moves, no recency or counter
 * changes.
 */
final class LookupExplainer {

    /** The probe a lookup uses: the tier that would serve the chunk, noting why not in {@code note}. */
    @FunctionalInterface
    interface HitProbe {
        Optional<GuardedTier> find(ChunkKey key, int start, int end, RemoteLookup remote, MissNote note);
    }

    private final TierStack tiers;
    private final PrefixWalk walk;
    private final MissClassifier misses;
    private final int chunkTokens;

    LookupExplainer(TierStack tiers, PrefixWalk walk, MissClassifier misses, int chunkTokens) {
        this.tiers = tiers;
        this.walk = walk;
        this.misses = misses;
        this.chunkTokens = chunkTokens;
    }

    LookupExplanation explain(PromptChunks chunks, int tokens, HitProbe probe) {
        RemoteLookup remote = RemoteLookup.of(tiers.slower(), chunks);
        MissNote note = new MissNote();
        List<ChunkExplanation> out = new ArrayList<>();
        int hit = walk.walk(chunks, 0, (key, start, end) -> probe.find(key, start, end, remote, note), match -> {
            boolean partial = match.end() < chunks.end(match.start() / chunkTokens);
            out.add(new ChunkExplanation(match.start() / chunkTokens, match.start(), match.end(), match.key(), match.value().name(),
                    Optional.empty(), partial ? "a stored partial chunk of " + (match.end() - match.start()) + " tokens matches"
                            : "served from the " + match.value().name() + " tier"));
            return true;
        });
        int next = out.size();
        Optional<MissClassifier.ChunkMiss> missed = misses.missed(chunks, 0, hit, note);
        if (missed.isPresent()) {
            int i = missed.get().chunk();
            MissClassifier.Miss m = missed.get().miss();
            out.add(new ChunkExplanation(i, chunks.start(i), chunks.end(i), chunks.key(i), m.tier(), Optional.of(m.reason()),
                    m.detail()));
            next = i + 1;
        }
        for (int i = next; i < chunks.count(); i++) {
            ChunkKey key = chunks.key(i);
            List<String> holders = new ArrayList<>();
            for (GuardedTier t : tiers.all()) {
                if (remote.covers(t) ? remote.contains(key, i) : t.contains(key)) {
                    holders.add(t.name());
                }
            }
            out.add(new ChunkExplanation(i, chunks.start(i), chunks.end(i), key,
                    holders.isEmpty() ? MissCount.NO_TIER : holders.getFirst(), Optional.of(MissReason.AFTER_MISS),
                    holders.isEmpty() ? "an earlier chunk missed, and no tier holds this one either"
                            : "held by " + String.join(", ", holders) + ", but an earlier chunk missed and keys chain through"
                                    + " their prefix"));
        }
        return new LookupExplanation(tokens, hit, out);
    }
}
