package org.lmcache4j.storage.engine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.hash.PromptChunks;

/**
 * Which chunks of one prompt the {@code remote} tier holds, asked in one round trip: the first time a
 * walk reaches the remote tier (every faster tier missed chunk {@code i}), the presence of chunks
 * {@code i..count-1} is read with {@link StorageTier#containsAll}, and later chunks are answered from that.
 * "The remote tier" is the first slower tier that {@link StorageTier#prefersBatches() prefers batches},
 * whichever provider opened it (the Redis tier does).
 * A prompt whose prefix the faster tiers hold never touches the network. A failure of the batch call is
 * counted by the tier's {@link GuardedTier} and makes every chunk a remote miss. A retrieve's lookup may
 * also carry a {@link RemoteReadAhead} ({@link #readingAhead}), whose pages {@link #close()} releases, and one for the
 * first slower tier that {@link StorageTier#pipelinesReads() pipelines reads} without preferring batches (the disk
 * tier: its presence is asked chunk by chunk, as cheap as ever, and its chunks read ahead in one call). The same call's
 * batch of the node-shared pool ({@link InPlaceBatch}) travels with it and is closed with it.
 * Not thread-safe; one per engine call (lookup, lookupAndPin, retrieve).
 */
final class RemoteLookup implements AutoCloseable {

    private final GuardedTier guard; // null when there is no tier that prefers batches
    private final PromptChunks chunks;
    private Map<ChunkKey, Boolean> known; // filled by the first ask
    private RemoteReadAhead readAhead; // null: chunks are read one at a time
    private final GuardedTier local; // null when no other slower tier pipelines reads
    private RemoteReadAhead localReadAhead; // null: the local tier's chunks are read one at a time
    private final InPlaceBatch inPlace;

    private RemoteLookup(GuardedTier guard, GuardedTier local, PromptChunks chunks, InPlaceBatch inPlace) {
        this.guard = guard;
        this.local = local;
        this.chunks = chunks;
        this.inPlace = inPlace;
    }

    /** A lookup that covers no tier (there is no remote tier, or no prompt). */
    static RemoteLookup none() {
        return new RemoteLookup(null, null, null, InPlaceBatch.none());
    }

    /**
     * The lookup of {@code chunks} over the first tier among {@code tiers} that
     * {@link StorageTier#prefersBatches() prefers batches} and does not serve in place (the remote tier), if any,
     * and the first other one that {@link StorageTier#pipelinesReads() pipelines reads} (the local tier, read ahead
     * too); a tier that serves in place and prefers batches (the node-shared pool) is answered by its {@link #inPlace()}.
     */
    static RemoteLookup of(List<GuardedTier> tiers, PromptChunks chunks) {
        InPlaceBatch inPlace = InPlaceBatch.of(tiers, chunks);
        GuardedTier remote = null;
        GuardedTier local = null;
        for (GuardedTier t : tiers) {
            if (t.tier().servesInPlace()) {
                continue;
            }
            if (remote == null && t.tier().prefersBatches()) {
                remote = t;
            } else if (local == null && !t.tier().prefersBatches() && t.tier().pipelinesReads()) {
                local = t;
            }
        }
        return new RemoteLookup(remote, local, chunks, inPlace);
    }

    /** The same engine call's batch of the tier that serves in place from behind a round trip (the pool). */
    InPlaceBatch inPlace() {
        return inPlace;
    }

    /**
     * Lets a walk read up to {@code chunks} chunks of the prompt from the remote tier, and from the local tier
     * that pipelines reads, in one batch (the one it asks for and the next ones the tier holds); 1 or less, or
     * no such tier, reads one at a time. Returns this lookup.
     */
    RemoteLookup readingAhead(int chunks) {
        if (guard != null && chunks > 1 && readAhead == null) {
            readAhead = new RemoteReadAhead(chunks);
        }
        if (local != null && chunks > 1 && localReadAhead == null) {
            localReadAhead = new RemoteReadAhead(chunks);
        }
        return this;
    }

    /** A page read ahead for a chunk, taken from the read-ahead of {@code tier}, which read it. */
    record Taken(GuardedTier tier, RemoteReadAhead.Page page) {
    }

    /**
     * The page either read-ahead of this call holds for {@code key}, handed over with its reference: the walk
     * takes a chunk another tier read ahead rather than reading it again from the tier it reached first.
     */
    java.util.Optional<Taken> takeReadAhead(ChunkKey key) {
        java.util.Optional<RemoteReadAhead.Page> p = readAhead == null ? java.util.Optional.empty() : readAhead.take(key);
        if (p.isPresent()) {
            return java.util.Optional.of(new Taken(guard, p.get()));
        }
        p = localReadAhead == null ? java.util.Optional.empty() : localReadAhead.take(key);
        return p.map(page -> new Taken(local, page));
    }

    /** True when either read-ahead of this call holds a page of {@code key}. */
    boolean readAheadHolds(ChunkKey key) {
        return readAhead != null && readAhead.holds(key) || localReadAhead != null && localReadAhead.holds(key);
    }

    /** The pages read ahead of the walk from {@code tier}, when this lookup reads ahead from it. */
    java.util.Optional<RemoteReadAhead> readAhead(GuardedTier tier) {
        return tier == null ? java.util.Optional.empty() : tier == guard ? java.util.Optional.ofNullable(readAhead)
                : tier == local ? java.util.Optional.ofNullable(localReadAhead) : java.util.Optional.empty();
    }

    /**
     * Keys of the chunks after chunk {@code chunk} that {@code tier} holds, in order, at most {@code max}; stops
     * at the first one it does not hold (a walk stops there too). For the remote tier, what this lookup knows
     * (empty before the tier was asked); for the local tier that pipelines reads, asked chunk by chunk.
     */
    List<ChunkKey> heldAfter(GuardedTier tier, int chunk, int max) {
        List<ChunkKey> out = new ArrayList<>(Math.max(0, max));
        boolean remote = tier == guard;
        if (chunks == null || tier == null || (remote ? known == null : tier != local)) {
            return out;
        }
        for (int i = chunk + 1; i < chunks.count() && out.size() < max; i++) {
            ChunkKey k = chunks.key(i);
            if (remote ? !Boolean.TRUE.equals(known.get(k)) : !tier.contains(k)) {
                break;
            }
            out.add(k);
        }
        return out;
    }

    /** Releases the pages read ahead and the in-place chunks held that no walk took. Idempotent. */
    @Override
    public void close() {
        try {
            if (readAhead != null) {
                readAhead.close();
            }
        } finally {
            try {
                if (localReadAhead != null) {
                    localReadAhead.close();
                }
            } finally {
                inPlace.close();
            }
        }
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
            known = presence(guard, rest(chunks, chunk));
        }
        Boolean found = known.get(key);
        return found != null ? found : guard.contains(key);
    }

    /** The keys of chunks {@code chunk..count-1} of {@code chunks}. */
    static List<ChunkKey> rest(PromptChunks chunks, int chunk) {
        List<ChunkKey> keys = new ArrayList<>(Math.max(0, chunks.count() - chunk));
        for (int i = chunk; i < chunks.count(); i++) {
            keys.add(chunks.key(i));
        }
        return keys;
    }

    /** Whether {@code guard}'s tier holds each of {@code keys}, asked in one {@code containsAll}; all absent when it fails. */
    static Map<ChunkKey, Boolean> presence(GuardedTier guard, List<ChunkKey> keys) {
        boolean[] found;
        try {
            found = guard.succeeded(guard.tier().containsAll(keys));
        } catch (RuntimeException e) {
            found = guard.failed("contains", e, new boolean[keys.size()]);
        }
        Map<ChunkKey, Boolean> known = new HashMap<>();
        for (int i = 0; i < found.length; i++) {
            known.put(keys.get(i), found[i]);
        }
        return known;
    }
}
