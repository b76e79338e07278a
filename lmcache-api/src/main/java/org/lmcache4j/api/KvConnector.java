package org.lmcache4j.api;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What an inference engine calls to reuse KV of prompt prefixes it has seen before: {@code lookup} how
 * many prefix tokens are cached, {@code store} KV after prefill, {@code retrieve} a cached prefix into
 * engine memory before prefill, {@code prefetch} to warm the fastest tier.
 *
 * <p>Tokens are grouped into chunks of {@link #chunkTokens()}; a prompt of N tokens has
 * {@code floor(N / chunkTokens)} full chunks and, when the config saves unfull chunks, one partial tail.
 * All results are prefix lengths in tokens.
 *
 * <p>Errors the engine can see: {@link IllegalArgumentException} for bad input (the message names the
 * value, what was expected and which argument), {@link IllegalStateException} after {@link #close()}
 * or for {@link DeviceKvMemory} when no device copy engine is available. Input is checked before
 * anything is copied, so a rejected call leaves engine memory as it was.
 * A failing storage tier never throws here: its chunks become misses and the failure is counted in
 * {@link #stats()}. Thread-safe.
 */
public interface KvConnector extends AutoCloseable {

    /** The layout every engine memory passed to this connector must have. */
    KvLayout layout();

    /** Tokens per chunk. */
    int chunkTokens();

    /**
     * The number of prefix tokens of {@code tokens} whose chunks are stored in some tier: walks the
     * chunks in order and stops at the first miss. A multiple of {@link #chunkTokens()}, except with
     * {@code saveUnfullChunk}, where the prefix may end in a stored partial chunk (the whole prompt, or a
     * shorter stored prompt that this one extends); use it as a store-mask prefix only after rounding
     * down to a chunk multiple. Callers that need logits cap it (e.g. at {@code tokens.length - 1}) and
     * recompute the rest.
     */
    int lookup(int[] tokens);

    /**
     * Like {@link #lookup(int[])}, counting only the chunks whose estimated load time (from each tier's
     * measured bandwidth) fits in {@code deadline} together with those before them: the prefix the
     * engine can have within that time. The config's recompute rate, when set, applies as well.
     */
    int lookup(int[] tokens, Duration deadline);

    /**
     * Like {@link #lookup(int[])}, and pins the found chunks so that eviction cannot drop them before a
     * later {@code retrieve}. Pins end when the returned handle is closed or after the configured pin
     * timeout, whichever comes first.
     */
    PrefixPin lookupAndPin(int[] tokens);

    /**
     * Copies the KV of {@code tokens} out of engine memory into the cache. When this returns, the engine
     * may overwrite its memory (lower tiers are written behind from the cache's own copy).
     *
     * @param tokens      the prompt's token ids
     * @param storeMask   null to store everything; else the same length as {@code tokens}, {@code false}
     *                    for an already-stored prefix whose length is a multiple of {@link #chunkTokens()},
     *                    then {@code true} to the end
     * @param kv          the engine's KV memory, with this connector's layout
     * @param slotMapping the slot of each token (same length as {@code tokens}); a negative slot means the
     *                    token's KV is not in engine memory, so storing stops before its chunk
     * @return the number of tokens newly copied into the cache by this call (chunks already stored, or
     *         dropped for lack of room, are not counted)
     */
    int store(int[] tokens, boolean[] storeMask, EngineKvMemory kv, int[] slotMapping);

    /** {@link #store(int[], boolean[], EngineKvMemory, int[])} with no mask. */
    default int store(int[] tokens, EngineKvMemory kv, int[] slotMapping) {
        return store(tokens, null, kv, slotMapping);
    }

    /**
     * Starts copying what {@link #store(int[], boolean[], EngineKvMemory, int[])} would copy, behind the
     * engine's back (vLLM's connector saves KV this way while the model runs): the copy-out overlaps the
     * engine's next steps, and the returned handle says when it is done and how many tokens it stored.
     *
     * <p><b>The engine must keep the memory at {@code slotMapping} alive and unchanged until the handle is
     * done</b>: not free it, not reuse its slots, not write those tokens' KV. Once the handle is done, the
     * connector never reads that memory again. A lookup made after the handle is done sees the stored
     * chunks.
     *
     * <p>Arguments are checked at once, with the same exceptions and messages as {@code store} (and host
     * memory must be readable by other threads: a shared or global arena, not a confined one), so a bad
     * call throws here and copies nothing. {@code tokens}, {@code storeMask} and {@code slotMapping} are
     * copied: the engine may reuse the arrays as soon as this returns.
     *
     * <p>The default copies on the caller's thread, as {@code store} does, and returns a completed handle:
     * correct for any connector (the memory is no longer read when the handle is returned), so engines can
     * always call this method, and connectors that cannot copy in the background need not implement it.
     *
     * @return the store's handle; {@link StoreHandle#join()} gives what {@code store} would have returned
     * @throws IllegalStateException after {@link #close()}
     */
    default StoreHandle storeAsync(int[] tokens, boolean[] storeMask, EngineKvMemory kv, int[] slotMapping) {
        return StoreHandle.completed(store(tokens, storeMask, kv, slotMapping));
    }

    /** {@link #storeAsync(int[], boolean[], EngineKvMemory, int[])} with no mask. */
    default StoreHandle storeAsync(int[] tokens, EngineKvMemory kv, int[] slotMapping) {
        return storeAsync(tokens, null, kv, slotMapping);
    }

    /**
     * Starts a store that takes the KV one layer at a time, as the engine finishes computing it (LMCache's
     * layerwise save): the engine calls {@link LayerwiseStorage#layerDone(int)} after writing each layer's KV of
     * every token, in layer order, and the connector copies that layer out while the engine computes the next.
     * After the last layer the chunks are published as {@link #store} publishes them (the same chunks, the same
     * bytes), and {@link LayerwiseStorage#join()} returns the tokens newly stored.
     *
     * <p>Arguments are checked at once, as {@code store} checks them; the arrays are copied. Which chunks are
     * new, and the room for them, is settled at once too, so a chunk stored by another call meanwhile is
     * stored twice at worst (the second publish is skipped). Host memory must be readable by other threads.
     *
     * <p>The default waits for the last layer and then stores on the caller's thread: correct for any
     * connector, without the overlap.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    default LayerwiseStorage storeLayerwise(int[] tokens, boolean[] storeMask, EngineKvMemory kv, int[] slotMapping) {
        return new StoreAfterLastLayer(this, tokens, storeMask, kv, slotMapping);
    }

    /**
     * Starts a retrieve that delivers the cached prefix one layer at a time (LMCache's layerwise load): the
     * prefix and its chunks are settled before this returns ({@link LayerwiseRetrieval#retrievedTokens()}),
     * layer 0 is copied first, and the engine calls {@link LayerwiseRetrieval#awaitLayer(int)} before the
     * attention of each layer, computing layer {@code l} while later layers load. The KV delivered is
     * exactly what {@link #retrieve} delivers.
     *
     * <p>Arguments are checked at once, as {@code retrieve} checks them. Host memory must be writable by other
     * threads (a shared or global arena); the connector writes only the slots of the retrieved tokens, and not
     * after {@link LayerwiseRetrieval#close()} returns.
     *
     * <p>The default retrieves everything before returning: correct for any connector, without the overlap.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    default LayerwiseRetrieval retrieveLayerwise(int[] tokens, boolean[] retrieveMask, EngineKvMemory kv, int[] slotMapping) {
        return LayerwiseRetrieval.completed(retrieve(tokens, retrieveMask, kv, slotMapping), layout().numLayers());
    }

    /**
     * Copies the longest cached prefix of {@code tokens} into engine memory at the given slots. Memory
     * of tokens outside that prefix is left untouched.
     *
     * @param tokens        the prompt's token ids
     * @param retrieveMask  null to retrieve from the start; else the same length as {@code tokens},
     *                      {@code false} for a prefix the engine already holds (any length), then {@code true}
     * @param kv            the engine's KV memory, with this connector's layout, writable
     * @param slotMapping   the slot of each token (same length as {@code tokens}); negative = do not write
     * @return the number of tokens retrieved: where the cached prefix ends minus the masked prefix, or 0.
     *         Chunks wholly inside the masked prefix need not be cached (their keys are still chained
     *         into the later ones, so what is retrieved is always the KV of this exact prefix)
     */
    int retrieve(int[] tokens, boolean[] retrieveMask, EngineKvMemory kv, int[] slotMapping);

    /**
     * Like {@link #retrieve(int[], boolean[], EngineKvMemory, int[])}, stopping before a chunk that can
     * no longer arrive within {@code deadline} (measured from the call's start, with the next chunk's
     * load time estimated from its tier's measured bandwidth): the engine gets a shorter prefix and
     * recomputes the rest instead of waiting on a slow tier.
     */
    int retrieve(int[] tokens, boolean[] retrieveMask, EngineKvMemory kv, int[] slotMapping, Duration deadline);

    /** {@link #retrieve(int[], boolean[], EngineKvMemory, int[])} with no mask. */
    default int retrieve(int[] tokens, EngineKvMemory kv, int[] slotMapping) {
        return retrieve(tokens, null, kv, slotMapping);
    }

    /**
     * Stores the KV of each segment of {@code tokens} on its own ({@link KvSegment}): keyed by the segment's tokens
     * alone, with the position its KV was computed at, so that {@link #retrieveSegments} finds it in any prompt at
     * any position. A segment already cached (at any position) is not stored again. Chunks of a segment are
     * {@link #chunkTokens()} long, the last one shorter; they live in the same tiers, with the same checksums and
     * eviction, as prefix chunks, under keys that never equal a prefix chunk's.
     *
     * <p>Arguments are checked as {@code store} checks them, and the segments by
     * {@link KvSegment#requireWellFormed}, before anything is copied. The default stores nothing (a connector
     * without segments: every segment is a miss).
     *
     * @return the tokens newly copied into the cache
     */
    default int storeSegments(int[] tokens, java.util.List<KvSegment> segments, EngineKvMemory kv, int[] slotMapping) {
        KvSegment.requireWellFormed(segments, tokens.length);
        return 0;
    }

    /**
     * What is cached of each segment of {@code tokens}, in order: how many of its first tokens, computed at which
     * position. Moves no data. The default: every segment a miss.
     */
    default java.util.List<SegmentMatch> lookupSegments(int[] tokens, java.util.List<KvSegment> segments) {
        KvSegment.requireWellFormed(segments, tokens.length);
        return segments.stream().map(SegmentMatch::miss).toList();
    }

    /**
     * Copies the cached KV of each segment of {@code tokens} into engine memory at the segment's slots, as it was
     * stored: K still rotated for the positions it was computed at ({@link SegmentMatch#cachedStart()}), which
     * the engine corrects before use. Slots of tokens not retrieved are left untouched. Segments are independent:
     * a miss in one does not stop the next.
     *
     * <p>Arguments are checked as {@code retrieve} checks them, and the segments by
     * {@link KvSegment#requireWellFormed}, before anything is written. The default retrieves nothing.
     *
     * @return per segment, in order, what was retrieved
     */
    default java.util.List<SegmentMatch> retrieveSegments(int[] tokens, java.util.List<KvSegment> segments, EngineKvMemory kv,
                                                          int[] slotMapping) {
        KvSegment.requireWellFormed(segments, tokens.length);
        return segments.stream().map(SegmentMatch::miss).toList();
    }

    /**
     * Starts loading the cached prefix of {@code tokens} from lower tiers into the fastest one, so that a
     * later retrieve is a memory copy. Completes with the prefix length then available in the fastest
     * tier; never completes exceptionally because of a tier failure.
     */
    CompletableFuture<Integer> prefetch(int[] tokens);

    /**
     * For each tier, fastest first, the prefix of {@code tokens} whose chunks that tier holds: where a
     * prompt's KV lives (operators and routers ask this).
     */
    Map<String, Integer> lookupByTier(int[] tokens);

    /**
     * Why each chunk of {@code tokens} would or would not be served now: the tier a hit would come from,
     * or the {@link MissReason} of a miss (absent, evicted by which tier, corrupt, identity mismatch,
     * tier unhealthy, dropped at store, wrong partial tail; chunks after the first miss say where they
     * are held although they cannot be used). Moves no data and changes no counter or recency, so
     * operators can ask it at any time ({@code POST /lookup?explain=true} on the admin endpoint).
     *
     * <p>The default, for connectors that cannot explain, reports {@link #lookup(int[])}'s prefix and no chunks.
     */
    default LookupExplanation explain(int[] tokens) {
        return new LookupExplanation(tokens.length, lookup(tokens), java.util.List.of());
    }

    /**
     * Starts delivering chunk events and operation timings to {@code listener}; closing the returned
     * handle stops it.
     */
    AutoCloseable subscribe(KvEventListener listener);

    /**
     * Removes every chunk of this connector's namespace from every tier; pinned chunks included. Stores
     * started before with {@link #storeAsync} are waited for first, so their chunks are removed too.
     */
    void clear();

    /**
     * Waits until the work this connector started at open to be fast later is done, at most {@code timeout}:
     * making the cpu tier's first pages resident ahead of demand (hundreds of MiB can take a core for a
     * second or more), mapping a node-shared pool's pages into this process (a fault per page on a virtual
     * machine: a second or more for a few hundred MiB; {@link org.lmcache4j.api.spi.StorageTier#awaitReady}),
     * and hashing synthetic chunks until the JIT has compiled the chunk hasher (about
     * 0.1 s of one core; until then each prompt's hashing costs a fresh process tenths of a millisecond).
     * Requests are served before that too; an engine that does not want that work to compete with its
     * first requests, or a readiness probe, calls this before taking traffic. The default,
     * for connectors with nothing to prepare, returns true at once.
     *
     * @return true when the preparation is done; false when {@code timeout} passed first
     * @throws IllegalArgumentException when {@code timeout} is negative
     */
    default boolean awaitReady(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: >= 0)");
        }
        return true;
    }

    /** Counters since open, and each tier's occupancy and health. */
    CacheStats stats();

    /**
     * Releases all memory and threads; idempotent. Later calls throw {@link IllegalStateException}. Every
     * {@link StoreHandle} is done when this returns (queued stores run for a bounded time, then fail), and
     * no copy reads engine memory after it.
     */
    @Override
    void close();
}
