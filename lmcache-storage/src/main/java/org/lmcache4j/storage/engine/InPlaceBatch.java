package org.lmcache4j.storage.engine;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.hash.PromptChunks;

/**
 * What a tier that serves hits in place from behind a round trip holds of one prompt, asked once per engine call.
 * Such a tier (the node-shared pool) {@link StorageTier#servesInPlace() serves in place} and
 * {@link StorageTier#prefersBatches() prefers batches}: the first time a lookup reaches it at chunk {@code i}, the
 * presence of chunks {@code i..count-1} is asked with {@link StorageTier#containsAll}; the first time a retrieve
 * reaches it, those chunks are held with {@link StorageTier#getAll}, and the walk takes them one by one. A prompt of
 * 16 chunks thus costs one round trip to the pool's coordinator, not 16. {@link #close()} releases what no walk took
 * (the walk stopped early, or a faster tier had the chunk) together with what it took and closed, in one message.
 * A chunk asked for on its own (a partial tail) goes to the tier directly. One per engine call, owned by its
 * {@link RemoteLookup}; the walk runs on one thread, the chunks it took may be closed on another.
 */
final class InPlaceBatch implements AutoCloseable {

    private final GuardedTier guard; // null when no tier both serves in place and prefers batches
    private final PromptChunks chunks;
    private Map<ChunkKey, Boolean> known; // filled by the first contains
    private Map<ChunkKey, ChunkBuffer> held; // filled by the first get; a taken buffer leaves it
    private final Set<ChunkKey> asked = new HashSet<>();
    private final List<ChunkBuffer> done = new ArrayList<>(); // taken, closed before the call ended: released with it
    private boolean closed;

    private InPlaceBatch(GuardedTier guard, PromptChunks chunks) {
        this.guard = guard;
        this.chunks = chunks;
    }

    /** A batch that covers no tier. */
    static InPlaceBatch none() {
        return new InPlaceBatch(null, null);
    }

    /** The batch of {@code chunks} over the first of {@code tiers} that serves in place and prefers batches, if any. */
    static InPlaceBatch of(List<GuardedTier> tiers, PromptChunks chunks) {
        for (GuardedTier t : tiers) {
            if (t.tier().servesInPlace() && t.tier().prefersBatches()) {
                return new InPlaceBatch(t, chunks);
            }
        }
        return none();
    }

    /** True when {@code tier} is the tier this batch answers for. */
    boolean covers(GuardedTier tier) {
        return tier != null && tier == guard;
    }

    /** Whether the tier holds {@code key}, the key of chunk {@code chunk} of the prompt (or of a partial tail there). */
    boolean contains(ChunkKey key, int chunk) {
        if (known == null && chunks != null && chunk < chunks.count()) {
            known = RemoteLookup.presence(guard, RemoteLookup.rest(chunks, chunk));
        }
        Boolean found = known == null ? null : known.get(key);
        return found != null ? found : guard.contains(key);
    }

    /**
     * The chunk of {@code key}, chunk {@code chunk} of the prompt, held for reading: taken from what the first call
     * held of the rest of the prompt (empty when the tier did not have it then), or asked for on its own when that
     * call did not ask for it. The caller closes it.
     */
    Optional<ChunkBuffer> get(ChunkKey key, int chunk) {
        if (held == null && chunks != null && chunk < chunks.count()) {
            List<ChunkKey> keys = RemoteLookup.rest(chunks, chunk);
            List<Optional<ChunkBuffer>> got = guard.getAll(keys);
            held = new HashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                ChunkKey k = keys.get(i);
                got.get(i).ifPresent(b -> held.put(k, b));
            }
            asked.addAll(keys);
        }
        ChunkBuffer b = held == null ? null : held.remove(key);
        if (b != null) {
            return Optional.of(new Deferred(b));
        }
        return held != null && asked.contains(key) ? Optional.empty() : guard.get(key);
    }

    /**
     * Releases every chunk held and not taken, and those taken and closed meanwhile, in one call of the tier
     * ({@link StorageTier#closeAll}: one message to the pool's coordinator). A chunk taken and still open (a
     * layerwise retrieve keeps them until its layers are copied) is released when it is closed. Idempotent.
     */
    @Override
    public void close() {
        List<ChunkBuffer> release;
        synchronized (this) {
            if (held == null || closed) {
                return;
            }
            closed = true;
            release = new ArrayList<>(held.values());
            release.addAll(done);
            held.clear();
            done.clear();
        }
        guard.closeAll(release);
    }

    /**
     * A chunk the walk took: closing it before the engine call ends only notes it, so that the call's chunks are
     * released together by {@link #close()}; after that, closing it releases it.
     */
    private final class Deferred implements ChunkBuffer {
        private final ChunkBuffer buffer;
        private boolean closedHere;

        Deferred(ChunkBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public ChunkKey key() {
            return buffer.key();
        }

        @Override
        public MemorySegment segment() {
            return buffer.segment();
        }

        @Override
        public boolean intact() {
            return buffer.intact();
        }

        @Override
        public void close() {
            synchronized (InPlaceBatch.this) {
                if (closedHere) {
                    return;
                }
                closedHere = true;
                if (!closed) {
                    done.add(buffer);
                    return;
                }
            }
            guard.closeAll(List.of(buffer));
        }
    }
}
