package org.lmcache4j.storage;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.lmcache4j.api.ChunkKey;

/**
 * Which chunks of one prompt the {@code remote} tier holds, asked in one round trip: the first time a
 * walk reaches the remote tier (every faster tier missed chunk {@code i}), the presence of chunks
 * {@code i..count-1} is read with {@link RemoteTier#containsAll}, and later chunks are answered from that.
 * A prompt whose prefix the faster tiers hold never touches the network. A failure of the batch call is
 * counted by the tier's {@link GuardedTier} and makes every chunk a remote miss. Not thread-safe; one per
 * engine call (lookup, lookupAndPin, retrieve).
 */
final class RemoteLookup {

    private final GuardedTier guard; // null when there is no remote tier
    private final RemoteTier remote;
    private final PromptChunks chunks;
    private Map<ChunkKey, Boolean> known; // filled by the first ask

    private RemoteLookup(GuardedTier guard, PromptChunks chunks) {
        this.guard = guard;
        this.remote = guard == null ? null : (RemoteTier) guard.tier();
        this.chunks = chunks;
    }

    /** A lookup that covers no tier (there is no remote tier, or no prompt). */
    static RemoteLookup none() {
        return new RemoteLookup(null, null);
    }

    /** The lookup of {@code chunks} over the remote tier among {@code tiers}, if any. */
    static RemoteLookup of(List<GuardedTier> tiers, PromptChunks chunks) {
        for (GuardedTier t : tiers) {
            if (t.tier() instanceof RemoteTier) {
                return new RemoteLookup(t, chunks);
            }
        }
        return none();
    }

    /** True when {@code tier} is the remote tier this lookup answers for. */
    boolean covers(GuardedTier tier) {
        return tier != null && tier == guard;
    }

    /**
     * Whether the remote tier holds {@code key}, the key of chunk {@code chunk} of the prompt (or of a
     * partial tail there, which is asked for on its own).
     */
    boolean contains(ChunkKey key, int chunk) {
        if (guard == null) {
            return false;
        }
        if (known == null) {
            List<ChunkKey> keys = new ArrayList<>(chunks.count() - chunk);
            for (int i = chunk; i < chunks.count(); i++) {
                keys.add(chunks.key(i));
            }
            boolean[] found;
            try {
                found = guard.succeeded(remote.containsAll(keys));
            } catch (RuntimeException e) {
                found = guard.failed("contains", e, new boolean[keys.size()]);
            }
            known = new HashMap<>();
            for (int i = 0; i < found.length; i++) {
                known.put(keys.get(i), found[i]);
            }
        }
        Boolean found = known.get(key);
        return found != null ? found : guard.contains(key);
    }
}
