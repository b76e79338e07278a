package org.lmcache4j.examples.routing;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.lmcache4j.api.ChunkKey;

/**
 * A router's index of which instance holds which chunk, fed by {@link KvEventPublisher} lines. A chunk
 * counts as held while some tier of the instance holds it (a cpu eviction of a chunk that is also on
 * disk keeps it). {@link #route} picks the instance holding the longest prefix of a request's keys.
 * Not thread-safe: one router thread applies lines and routes.
 */
public final class PrefixRouterIndex {

    /** instance -> key -> tiers holding it */
    private final Map<String, Map<ChunkKey, Set<String>>> held = new LinkedHashMap<>();
    private final Map<String, Long> lastSequence = new HashMap<>();
    private long gaps;

    /** Applies one published line. */
    public void apply(String line) {
        String[] f = line.split("\t");
        if (f.length != 8) {
            throw new IllegalArgumentException("event line: '" + line + "' (expected: 8 tab-separated fields)");
        }
        String instance = f[0];
        long sequence = Long.parseLong(f[1]);
        long previous = lastSequence.getOrDefault(instance, 0L);
        if (sequence != previous + 1) {
            gaps++; // a dropped event: a real router would resync from the instance's lookupByTier
        }
        lastSequence.put(instance, sequence);
        Map<ChunkKey, Set<String>> chunks = held.computeIfAbsent(instance, i -> new HashMap<>());
        switch (f[2]) {
            case "STORED" -> chunks.computeIfAbsent(ChunkKey.ofHex(f[4]), k -> new HashSet<>()).add(f[3]);
            case "EVICTED" -> {
                ChunkKey key = ChunkKey.ofHex(f[4]);
                Set<String> tiers = chunks.get(key);
                if (tiers != null && tiers.remove(f[3]) && tiers.isEmpty()) {
                    chunks.remove(key);
                }
            }
            case "CLEARED" -> chunks.clear();
            default -> throw new IllegalArgumentException("event type: '" + f[2] + "' (expected: STORED, EVICTED or CLEARED)");
        }
    }

    /** Chunks of {@code keys}, from the first, that {@code instance} holds. */
    public int prefixChunks(String instance, List<ChunkKey> keys) {
        Map<ChunkKey, Set<String>> chunks = held.getOrDefault(instance, Map.of());
        int n = 0;
        while (n < keys.size() && chunks.containsKey(keys.get(n))) {
            n++;
        }
        return n;
    }

    /** The instance holding the longest prefix of {@code keys}, or empty when none holds its first chunk. */
    public Optional<String> route(List<ChunkKey> keys) {
        String best = null;
        int bestChunks = 0;
        for (String instance : held.keySet()) {
            int n = prefixChunks(instance, keys);
            if (n > bestChunks) {
                best = instance;
                bestChunks = n;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Events lost in transit (sequence gaps) so far. */
    public long gaps() {
        return gaps;
    }
}
