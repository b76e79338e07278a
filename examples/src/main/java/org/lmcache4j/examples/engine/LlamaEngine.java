package org.lmcache4j.examples.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.KvSegment;
import org.lmcache4j.api.LayerwiseRetrieval;
import org.lmcache4j.api.SegmentMatch;
import org.lmcache4j.api.StoreHandle;
import org.lmcache4j.blend.BlendResult;
import org.lmcache4j.blend.Blender;
import org.lmcache4j.examples.model.ModelShape;
import org.lmcache4j.examples.model.ModelWeights;

/**
 * A small Llama-architecture inference engine that uses lmcache4j the way vLLM uses LMCache. For each
 * request: look up the prompt (capped at {@code length - 1}, so the last token is always computed and
 * gives the logits), retrieve the cached prefix into the request's paged KV blocks, prefill only the
 * rest (in chunks), take the first token, then start storing the prompt's KV ({@code storeAsync}, after
 * the first token: off the TTFT path), decode greedily while the store copies, and wait for the store
 * before the request ends (its blocks are not freed before). Without a connector it simply prefills
 * everything.
 */
public final class LlamaEngine implements AutoCloseable {

    private final ModelWeights weights;
    private final WorkerPool pool;
    private final PagedKvMemory memory;
    private final Transformer transformer;
    private final int prefillChunkTokens;
    private final List<KvCopies> spareCopies = new ArrayList<>();

    /**
     * @param weights            the model
     * @param kvCapacityTokens   tokens of KV memory, over all live requests
     * @param threads            compute threads (the caller counts as one)
     * @param prefillChunkTokens positions computed per forward pass in a prefill
     */
    public LlamaEngine(ModelWeights weights, int kvCapacityTokens, int threads, int prefillChunkTokens) {
        if (prefillChunkTokens < 1) {
            throw new IllegalArgumentException("prefillChunkTokens: " + prefillChunkTokens + " (expected: >= 1)");
        }
        this.weights = weights;
        this.pool = new WorkerPool(threads);
        boolean ok = false;
        try {
            this.memory = new PagedKvMemory(kvLayout(weights.shape()), Math.ceilDiv(kvCapacityTokens, PagedKvMemory.BLOCK_TOKENS));
            this.transformer = new Transformer(weights, pool);
            ok = true;
        } finally {
            if (!ok) {
                pool.close();
            }
        }
        this.prefillChunkTokens = prefillChunkTokens;
    }

    /** The KV layout of a model in this engine: FP32 K and V rows of every layer. */
    public static KvLayout kvLayout(ModelShape shape) {
        return KvLayout.standard(shape.layers(), shape.kvHeads(), shape.headDim(), KvDtype.FP32);
    }

    public KvLayout kvLayout() {
        return memory.layout();
    }

    /** The engine's KV memory (what the connector reads and writes). */
    public PagedKvMemory memory() {
        return memory;
    }

    public ModelShape shape() {
        return weights.shape();
    }

    /** Runs {@code prompt} without a cache. */
    public Generation generate(int[] prompt, int newTokens) {
        return generate(prompt, newTokens, null, done -> { });
    }

    /**
     * Runs one request: the prompt, then {@code newTokens} greedy tokens (the first from the prefill).
     *
     * @param cache    the connector, or null to compute everything
     * @param progress told how many prompt tokens have been computed, after each prefill chunk
     */
    public Generation generate(int[] prompt, int newTokens, KvConnector cache, IntConsumer progress) {
        return generate(prompt, newTokens, cache, progress, false);
    }

    /**
     * {@link #generate(int[], int, KvConnector, IntConsumer)}; with {@code layerwise}, the cached prefix is retrieved
     * with {@link KvConnector#retrieveLayerwise}: the first prefill pass waits for each layer of the prefix just
     * before that layer's attention, so later layers load while earlier ones compute.
     */
    public Generation generate(int[] prompt, int newTokens, KvConnector cache, IntConsumer progress, boolean layerwise) {
        requireTokens(prompt, newTokens);
        CacheStats before = cache == null ? null : cache.stats(); // to tell the hit's tier; not part of TTFT
        long start = System.nanoTime();
        Sequence seq = new Sequence(memory, prompt.length + newTokens, takeCopies(prompt.length + newTokens), this::giveBack);
        StoreHandle storing = null;
        LayerwiseRetrieval loading = null;
        boolean ok = false;
        try {
            int[] slots = seq.slots(prompt.length);
            int cached = 0;
            long retrieveNanos = 0;
            if (cache != null) {
                long lookupStart = System.nanoTime();
                int hit = Math.min(cache.lookup(prompt), prompt.length - 1);
                if (hit > 0 && layerwise) {
                    loading = cache.retrieveLayerwise(Arrays.copyOf(prompt, hit), null, memory.host(), Arrays.copyOf(slots, hit));
                    cached = loading.retrievedTokens();
                } else if (hit > 0) {
                    cached = cache.retrieve(Arrays.copyOf(prompt, hit), memory.host(), Arrays.copyOf(slots, hit));
                }
                // the connector's part only: lookup and the copy into memory (layerwise: until the copy began)
                retrieveNanos = System.nanoTime() - lookupStart;
                if (cached > 0 && loading == null) {
                    seq.refreshAll(0, cached, pool);
                }
                if (cached > 0) {
                    seq.setLength(cached);
                }
            }
            progress.accept(0);
            float[] logits = null;
            for (int from = cached; from < prompt.length; from += prefillChunkTokens) {
                int n = Math.min(prefillChunkTokens, prompt.length - from);
                logits = transformer.forward(seq, prompt, from, n, from + n == prompt.length,
                        from == cached && loading != null ? awaitPrefixLayer(loading, seq, cached) : null);
                progress.accept(from + n - cached);
            }
            if (loading != null) {
                loading.close();
                loading = null;
            }
            int[] all = Arrays.copyOf(prompt, prompt.length + newTokens);
            all[prompt.length] = VectorMath.argmax(logits);
            long ttft = System.nanoTime() - start;
            String tier = cache == null ? "none" : hitTier(before, cache.stats(), cached, cache.chunkTokens());

            long storeStart = System.nanoTime();
            if (cache != null) {
                boolean[] mask = new boolean[prompt.length];
                Arrays.fill(mask, cached / cache.chunkTokens() * cache.chunkTokens(), prompt.length, true);
                // The copy-out runs while decoding goes on. Decoding writes only positions after the prompt, so the
                // prompt's slots stay untouched until the handle is done, as storeAsync requires.
                storing = cache.storeAsync(prompt, mask, memory.host(), slots);
            }
            long storeNanos = System.nanoTime() - storeStart;

            for (int i = 1; i < newTokens; i++) {
                int pos = prompt.length + i - 1;
                all[pos + 1] = VectorMath.argmax(transformer.forward(seq, all, pos, 1, true));
            }
            // The request ends only when its store is done: the next request's lookup then sees its chunks, and the
            // blocks can be freed by whoever closes the Generation.
            long waitStart = System.nanoTime();
            int stored = storing == null ? 0 : storing.join();
            storeNanos += System.nanoTime() - waitStart;
            Generation g = new Generation(prompt.clone(), Arrays.copyOfRange(all, prompt.length, all.length), logits, ttft,
                    retrieveNanos, cached, tier, stored, storeNanos, seq);
            ok = true;
            return g;
        } finally {
            if (!ok) {
                if (loading != null) {
                    loading.close(); // the retrieve may still write the blocks: they are freed only after it
                }
                awaitQuietly(storing); // the store may still read the blocks: they are freed only after it
                seq.close();
            }
        }
    }

    /**
     * Runs one request whose prompt holds {@code segments} (documents, in prompt order) that may be cached on their
     * own (CacheBlend): retrieves what the connector holds of each segment into the request's blocks, lets
     * {@code blender} move it to its new positions and recompute what depends on the rest (every token no cached
     * segment covers, e.g. separators and the question, and the selected share of cached ones), takes the first
     * token, then stores the segments (those cached already are skipped by the connector) and decodes greedily.
     *
     * @throws IllegalArgumentException for bad tokens or segments (out of order, overlapping, past the prompt), before
     *                                  engine memory is written
     */
    public Generation generateBlended(int[] prompt, List<KvSegment> segments, int newTokens, KvConnector cache, Blender blender) {
        requireTokens(prompt, newTokens);
        KvSegment.requireWellFormed(segments, prompt.length);
        blender.requireFits(weights.shape().layers());
        CacheStats before = cache.stats();
        long start = System.nanoTime();
        Sequence seq = new Sequence(memory, prompt.length + newTokens, takeCopies(prompt.length + newTokens), this::giveBack);
        boolean ok = false;
        try {
            int[] slots = seq.slots(prompt.length);
            List<SegmentMatch> found = cache.retrieveSegments(prompt, segments, memory.host(), slots);
            long retrieveNanos = System.nanoTime() - start;
            for (SegmentMatch m : found) {
                if (m.cachedTokens() > 0) {
                    seq.refreshAll(m.segment().start(), m.segment().start() + m.cachedTokens(), pool);
                }
            }
            BlendResult blended = blender.prefill(new EngineBlendModel(transformer, seq, prompt, shape()), prompt.length, found);
            seq.setLength(prompt.length);
            int[] all = Arrays.copyOf(prompt, prompt.length + newTokens);
            all[prompt.length] = VectorMath.argmax(blended.logits());
            long ttft = System.nanoTime() - start;
            String tier = hitTier(before, cache.stats(), blended.cachedTokens(), cache.chunkTokens());

            long storeStart = System.nanoTime();
            int stored = cache.storeSegments(prompt, segments, memory.host(), slots);
            long storeNanos = System.nanoTime() - storeStart;
            for (int i = 1; i < newTokens; i++) {
                int pos = prompt.length + i - 1;
                all[pos + 1] = VectorMath.argmax(transformer.forward(seq, all, pos, 1, true));
            }
            Generation g = new Generation(prompt.clone(), Arrays.copyOfRange(all, prompt.length, all.length), blended.logits(), ttft,
                    retrieveNanos, blended.cachedTokens(), tier, stored, storeNanos, seq);
            ok = true;
            return g;
        } finally {
            if (!ok) {
                seq.close();
            }
        }
    }

    /**
     * Before each layer of the first prefill pass: that layer of the retrieved prefix, waited for and made ready for
     * attention (its working copies refreshed over the pool, a share of positions per worker).
     */
    private IntConsumer awaitPrefixLayer(LayerwiseRetrieval loading, Sequence seq, int cached) {
        int units = Math.min(cached, 4 * pool.workers());
        return layer -> {
            loading.awaitLayer(layer);
            pool.run(units, (unit, worker) -> seq.refresh(layer, (int) ((long) cached * unit / units),
                    (int) ((long) cached * (unit + 1) / units), new float[shape().kvDim()]));
        };
    }

    /** Waits for {@code store} (if any) to be done, whether it stored or failed. */
    private static void awaitQuietly(StoreHandle store) {
        if (store != null) {
            try {
                store.join();
            } catch (RuntimeException e) {
                // the request already failed; the store's failure adds nothing, and its memory is free to go now
            }
        }
    }

    /**
     * Allocates attention's working copies for {@code sequences} requests of up to {@code capacityTokens}
     * positions now, as an engine allocates its KV memory at startup, so that requests do not pay for it.
     */
    public void preallocate(int sequences, int capacityTokens) {
        for (int i = 0; i < sequences; i++) {
            giveBack(new KvCopies(memory.layout().numLayers(), memory.layout().tokenDim(), capacityTokens));
        }
    }

    /** The smallest spare set of attention copies that holds {@code capacity} positions, or a new one. */
    private synchronized KvCopies takeCopies(int capacity) {
        KvCopies best = null;
        for (KvCopies c : spareCopies) {
            if (c.capacity >= capacity && (best == null || c.capacity < best.capacity)) {
                best = c;
            }
        }
        if (best != null) {
            spareCopies.remove(best);
            return best;
        }
        return new KvCopies(memory.layout().numLayers(), memory.layout().tokenDim(), capacity);
    }

    private synchronized void giveBack(KvCopies copies) {
        spareCopies.add(copies);
    }

    private void requireTokens(int[] prompt, int newTokens) {
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("prompt: empty (expected: at least one token)");
        }
        if (newTokens < 1) {
            throw new IllegalArgumentException("newTokens: " + newTokens + " (expected: >= 1)");
        }
        int vocab = weights.shape().vocabSize();
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= vocab) {
                throw new IllegalArgumentException("prompt[" + i + "]: " + prompt[i] + " (expected: 0 to " + (vocab - 1) + ")");
            }
        }
    }

    /**
     * The tier(s) a retrieve was served from, from the connector's per-tier counters around it: one name
     * ({@code cpu}, {@code disk}, {@code remote}), or several joined by {@code +}, fastest first.
     */
    static String hitTier(CacheStats before, CacheStats after, int retrieved, int chunkTokens) {
        if (retrieved == 0) {
            return "none";
        }
        java.util.List<String> tiers = new java.util.ArrayList<>();
        after.retrievedTokensByTier().forEach((tier, n) -> {
            if (n - before.retrievedTokensByTier().getOrDefault(tier, 0L) > 0) {
                tiers.add(tier);
            }
        });
        java.util.List<String> order = after.tiers().stream().map(org.lmcache4j.api.TierStats::name).toList();
        tiers.sort(java.util.Comparator.comparingInt(order::indexOf));
        return tiers.isEmpty() ? "cpu" : String.join("+", tiers);
    }

    /** Stops the worker threads and frees the KV memory. */
    @Override
    public void close() {
        pool.close();
        memory.close();
    }
}
