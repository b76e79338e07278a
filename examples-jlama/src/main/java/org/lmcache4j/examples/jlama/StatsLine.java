package org.lmcache4j.examples.jlama;

import java.util.Locale;
import java.util.stream.Collectors;
import org.lmcache4j.api.CacheStats;

/** A connector's stats in one line, for the demo's output. */
final class StatsLine {

    private StatsLine() {
    }

    static String of(CacheStats s) {
        String tiers = s.tiers().stream().map(t -> String.format(Locale.ROOT, "%s %d chunks/%.1f MiB%s", t.name(), t.chunks(),
                t.usedBytes() / 1048576.0, t.healthy() ? "" : " UNHEALTHY")).collect(Collectors.joining(", "));
        return String.format(Locale.ROOT, "%d lookups hit %d of %d tokens; stored %d chunks (%.1f MiB); retrieved %d tokens %s;"
                        + " tier errors %d; tiers: %s", s.lookups(), s.lookupHitTokens(), s.lookupTokens(), s.storedChunks(),
                s.storedBytes() / 1048576.0, s.retrievedTokens(), s.retrievedTokensByTier(), s.tierErrors(), tiers);
    }
}
