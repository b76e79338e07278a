package org.lmcache4j.storage.engine;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.EngineKvMemory;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvEventListener;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.KvSegment;
import org.lmcache4j.api.LayerwiseRetrieval;
import org.lmcache4j.api.LayerwiseStorage;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.LookupExplanation;
import org.lmcache4j.api.MissReason;
import org.lmcache4j.api.PrefixPin;
import org.lmcache4j.api.SegmentMatch;
import org.lmcache4j.api.StoreHandle;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.ChunkCopy;
import org.lmcache4j.api.spi.DeviceCopyEngine;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.copy.CopyLanes;
import org.lmcache4j.storage.copy.DeviceCopiers;
import org.lmcache4j.storage.copy.EngineKvCopier;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.storage.cpu.SlabRegistrar;
import org.lmcache4j.storage.hash.ChunkHasher;
import org.lmcache4j.storage.hash.HasherWarmUp;
import org.lmcache4j.storage.hash.PromptChunks;
import org.lmcache4j.storage.hash.SegmentKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache engine: implements {@link KvConnector} over a stack of tiers, fastest first.
 *
 * <p>Implementation notes. Every call hashes its prompt lazily ({@link PromptChunks}) and walks chunks in
 * order, stopping at the first miss, so results are always contiguous prefixes. {@code store} gathers
 * each new chunk straight from engine memory into a reserved cpu page and publishes it (no intermediate
 * copy); {@code retrieve} holds each chunk's page while scattering it, so eviction cannot free it under
 * the copy. Arguments are checked before any copy. Tier failures stop at {@link GuardedTier}. A
 * read-write lock lets calls run concurrently while {@link #close()} waits for them to finish before
 * memory is freed. {@code storeAsync} checks and copies its arguments on the caller's thread and runs the
 * same store path on {@link StoreQueue}'s thread, under the same lock (so close waits for a running one).
 */
final class TieredCacheEngine implements KvConnector {

    private static final Logger LOG = LoggerFactory.getLogger(TieredCacheEngine.class);
    private static final int PARTIAL_TAIL_PARENTS = 1 << 16;
    /** How long close waits for the hasher's warm-up thread to end (it ends by itself, ~0.1 s after the first open). */
    static final long CLOSE_WAIT_MILLIS = 5_000;

    private final LmCacheConfig config;
    private final KvLayout layout;
    private final int chunkTokens;
    private final ChunkHasher hasher;
    private final SegmentKeys segmentKeys;
    private final HasherWarmUp hasherWarmUp;
    private final TierStack tiers;
    private final Prefetcher prefetcher = new Prefetcher();
    private final CopyLanes copyLanes;
    private final PartialTails partialTails = new PartialTails(PARTIAL_TAIL_PARENTS);
    private final PrefixWalk walk;
    private final KvEvents events = new KvEvents();
    private final MissClassifier misses;
    private final LookupExplainer explainer;
    private final PromptStore storer;
    private final ConnectorCounters counters = new ConnectorCounters();
    private final LongSupplier nanoClock;
    private final PinTable pins;
    private final ReentrantReadWriteLock openGuard = new ReentrantReadWriteLock();
    private final DeviceCopiers devices;
    private final StoreQueue stores;
    private final LayerwiseCopies layerwise = new LayerwiseCopies();
    /** Tests hold the layerwise copy thread here: before each layer of a load (its index), before (-1) and after (-2) a store's step. */
    private volatile java.util.function.IntConsumer layerGate = layer -> { };
    private boolean closed;

    TieredCacheEngine(LmCacheConfig config, KvLayout layout) {
        this(config, layout, System::nanoTime, UnaryOperator.identity(), ConfiguredTiers.slowerTiers(config, layout));
    }

    TieredCacheEngine(LmCacheConfig config, KvLayout layout, LongSupplier nanoClock) {
        this(config, layout, nanoClock, UnaryOperator.identity(), List.of());
    }

    /**
     * @param nanoClock     time source of pin expiry
     * @param tierDecorator wraps each tier before use (tests inject faults with it)
     * @param slowerTiers   tiers below the cpu tier, fastest first; this engine closes them
     */
    TieredCacheEngine(LmCacheConfig config, KvLayout layout, LongSupplier nanoClock,
                      UnaryOperator<StorageTier> tierDecorator, List<StorageTier> slowerTiers) {
        this(config, layout, nanoClock, tierDecorator, slowerTiers,
                new StoreQueue(StoreQueue.DEFAULT_CAPACITY, StoreQueue.DEFAULT_DRAIN_MILLIS));
    }

    /** @param stores runs {@code storeAsync}'s copies (tests pass a small or slow-draining one); this engine closes it */
    TieredCacheEngine(LmCacheConfig config, KvLayout layout, LongSupplier nanoClock,
                      UnaryOperator<StorageTier> tierDecorator, List<StorageTier> slowerTiers, StoreQueue stores) {
        this(config, layout, nanoClock, tierDecorator, slowerTiers, stores, DeviceCopiers.fromServiceLoader());
    }

    /** @param devices the device copy engines (tests pass their own); this engine closes them */
    TieredCacheEngine(LmCacheConfig config, KvLayout layout, LongSupplier nanoClock,
                      UnaryOperator<StorageTier> tierDecorator, List<StorageTier> slowerTiers, StoreQueue stores,
                      DeviceCopiers devices) {
        this.stores = stores;
        this.devices = devices;
        CopyLanes lanes = null;
        boolean ok = false;
        try {
            if (config == null || layout == null) {
                throw new IllegalArgumentException("config and layout: must not be null");
            }
            this.config = config;
            this.layout = layout;
            this.chunkTokens = config.chunkTokens();
            long chunkBytes = layout.chunkBytes(chunkTokens);
            if (config.localCpu() && config.maxLocalCpuBytes() < chunkBytes) {
                throw new IllegalArgumentException("maxLocalCpuBytes: " + config.maxLocalCpuBytes() + " (expected: at least one chunk, "
                        + chunkTokens + " tokens x " + layout.bytesPerToken() + " bytes = " + chunkBytes + " bytes)");
            }
            this.hasher = ChunkHasher.create(config.hashAlgorithm(), config.namespace(layout));
            this.segmentKeys = new SegmentKeys(hasher, chunkTokens);
            this.hasherWarmUp = HasherWarmUp.of(config.hashAlgorithm(), config.namespace(layout), chunkTokens);
            this.nanoClock = nanoClock;
            lanes = new CopyLanes(config.copyThreads());
            this.copyLanes = lanes;
            this.walk = new PrefixWalk(config.saveUnfullChunk() ? partialTails : null);
            this.tiers = new TierStack(config.localCpu() ? config.maxLocalCpuBytes() : 0, chunkBytes, nanoClock, tierDecorator,
                    slowerTiers, events, config.localCpu() ? devices.slabRegistrar() : SlabRegistrar.NONE);
            ok = true;
        } finally {
            if (!ok) {
                // a failed open keeps nothing it was given or started: the slower tiers (a disk tier holds its
                // directory's lock), the copy threads, the store queue, the device copiers
                slowerTiers.forEach(ConfiguredTiers::closeQuietly);
                closeAfterFailedOpen(lanes, stores, devices);
            }
        }
        this.pins = new PinTable(Duration.ofMillis(config.pinTimeoutMillis()), nanoClock, tiers.cpuGuard());
        this.misses = new MissClassifier(tiers, events.departures(), config.saveUnfullChunk() ? partialTails : null,
                chunkTokens);
        this.explainer = new LookupExplainer(tiers, walk, misses, chunkTokens);
        this.storer = new PromptStore(tiers, layout, chunkTokens, counters, events, partialTails);
        warnAboutTiersNotInThisBuild();
        LOG.info("lmcache4j connector open: layout {} ({} bytes/token, fingerprint {}), {} tokens/chunk, tiers {}, config {}",
                layout, layout.bytesPerToken(), layout.fingerprint(), chunkTokens,
                tiers.all().stream().map(GuardedTier::name).toList(), config);
    }

    /** After a failed open: stops the copy threads it started and closes what it was given, each even when another throws. */
    private static void closeAfterFailedOpen(CopyLanes lanes, StoreQueue queue, DeviceCopiers copiers) {
        try {
            if (lanes != null) {
                lanes.close();
            }
        } finally {
            try {
                queue.close();
            } finally {
                copiers.close();
            }
        }
    }

    private void warnAboutTiersNotInThisBuild() {
        if (tiers.all().isEmpty()) {
            LOG.warn("no tier is configured (localCpu=false): every lookup misses and store keeps nothing");
        }
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    @Override
    public int chunkTokens() {
        return chunkTokens;
    }

    @Override
    public int lookup(int[] tokens) {
        return lookup(tokens, -1);
    }

    @Override
    public int lookup(int[] tokens, Duration deadline) {
        return lookup(tokens, KvArguments.deadlineNanos(deadline));
    }

    private int lookup(int[] tokens, long deadlineNanos) {
        KvArguments.requireTokens(tokens);
        long startNanos = System.nanoTime();
        return guarded(() -> {
            LoadBudget budget = budget(deadlineNanos, false);
            PromptChunks chunks = chunks(tokens);
            RemoteLookup remote = RemoteLookup.of(tiers.slower(), chunks);
            MissNote note = new MissNote();
            int hit = walk.walk(chunks, 0,
                    (key, start, end) -> tiers.holding(key, start / chunkTokens, remote)
                            .filter(t -> admit(budget, t, start, end - start, end, note)),
                    match -> true);
            countLookup(tokens.length, hit, budget);
            countMiss(chunks, 0, hit, note);
            events.operation(KvEventListener.Operation.LOOKUP, System.nanoTime() - startNanos, tokens.length, hit);
            return hit;
        });
    }

    @Override
    public Map<String, Integer> lookupByTier(int[] tokens) {
        KvArguments.requireTokens(tokens);
        return guarded(() -> {
            PromptChunks chunks = chunks(tokens);
            Map<String, Integer> byTier = new LinkedHashMap<>();
            for (GuardedTier t : tiers.all()) {
                byTier.put(t.name(), walk.walk(chunks, 0,
                        (key, start, end) -> t.contains(key) ? Optional.of(t) : Optional.empty(), match -> true));
            }
            return byTier;
        });
    }

    @Override
    public LookupExplanation explain(int[] tokens) {
        KvArguments.requireTokens(tokens);
        return guarded(() -> {
            LoadBudget budget = budget(-1, false);
            return explainer.explain(chunks(tokens), tokens.length, (key, start, end, remote, note) ->
                    tiers.holding(key, start / chunkTokens, remote).filter(t -> admit(budget, t, start, end - start, end, note)));
        });
    }

    @Override
    public AutoCloseable subscribe(KvEventListener listener) {
        return guarded(() -> events.subscribe(listener));
    }

    @Override
    public PrefixPin lookupAndPin(int[] tokens) {
        KvArguments.requireTokens(tokens);
        return guarded(() -> {
            PinTable.Deadlines deadlines = pins.deadlines(); // before pinning: see PinTable
            List<ChunkPins.Pin> taken = new ArrayList<>();
            LoadBudget budget = budget(-1, false);
            PromptChunks chunks = chunks(tokens);
            RemoteLookup remote = RemoteLookup.of(tiers.slower(), chunks);
            MissNote note = new MissNote();
            int hit = walk.walk(chunks, 0,
                    (key, start, end) -> tiers.holding(key, start / chunkTokens, remote)
                            .filter(t -> admit(budget, t, start, end - start, end, note))
                            .filter(t -> pins.pin(t, key)),
                    match -> taken.add(pins.pinned(match.value(), match.key(), deadlines)));
            countLookup(tokens.length, hit, budget);
            countMiss(chunks, 0, hit, note);
            return pins.track(hit, taken, handle -> guardedIfOpen(() -> pins.release(handle)));
        });
    }

    @Override
    public int store(int[] tokens, boolean[] storeMask, EngineKvMemory kv, int[] slotMapping) {
        EngineKvCopier engineKv = copier(KvArguments.engineMemory(kv, layout, false));
        KvArguments.requireSlots(tokens, slotMapping, engineKv.numSlots());
        int skip = KvArguments.storeMaskPrefix(storeMask, tokens.length, chunkTokens);
        long startNanos = System.nanoTime();
        return guarded(() -> inForeground(() -> storeChecked(tokens, skip, engineKv, slotMapping, () -> false, startNanos)));
    }

    @Override
    public StoreHandle storeAsync(int[] tokens, boolean[] storeMask, EngineKvMemory kv, int[] slotMapping) {
        EngineKvCopier engineKv = copier(KvArguments.engineMemory(kv, layout, false));
        KvArguments.requireSlots(tokens, slotMapping, engineKv.numSlots());
        int skip = KvArguments.storeMaskPrefix(storeMask, tokens.length, chunkTokens);
        KvArguments.requireReadableBy(kv, stores.thread());
        int[] ownTokens = tokens.clone(); // the engine may reuse its arrays as soon as this returns
        int[] ownSlots = slotMapping.clone();
        guarded(() -> null); // closed: throw now, not in the handle
        return stores.submit(stop -> {
            long startNanos = System.nanoTime();
            return guarded(() -> storeChecked(ownTokens, skip, engineKv, ownSlots, stop, startNanos));
        });
    }

    /** The store path of {@code store} and {@code storeAsync}, with checked arguments, inside the open guard. */
    private int storeChecked(int[] tokens, int skip, EngineKvCopier engineKv, int[] slots, BooleanSupplier stop,
                             long startNanos) {
        int stored = storer.store(chunks(tokens), skip, engineKv, slots, stop);
        events.operation(KvEventListener.Operation.STORE, System.nanoTime() - startNanos, tokens.length, stored);
        return stored;
    }

    @Override
    public int retrieve(int[] tokens, boolean[] retrieveMask, EngineKvMemory kv, int[] slotMapping) {
        return retrieve(tokens, retrieveMask, kv, slotMapping, -1);
    }

    @Override
    public int retrieve(int[] tokens, boolean[] retrieveMask, EngineKvMemory kv, int[] slotMapping, Duration deadline) {
        return retrieve(tokens, retrieveMask, kv, slotMapping, KvArguments.deadlineNanos(deadline));
    }

    private int retrieve(int[] tokens, boolean[] retrieveMask, EngineKvMemory kv, int[] slotMapping, long deadlineNanos) {
        EngineKvCopier engineKv = copier(KvArguments.engineMemory(kv, layout, true));
        KvArguments.requireSlots(tokens, slotMapping, engineKv.numSlots());
        int masked = KvArguments.retrieveMaskPrefix(retrieveMask, tokens.length);
        long startNanos = System.nanoTime();
        return guarded(() -> inForeground(() -> walkRetrieve(chunks(tokens), masked, deadlineNanos, startNanos,
                (match, note) -> scatterChunk(match, engineKv, slotMapping, masked, note))));
    }

    /** What a retrieve does with each chunk of the prefix it finds: false ends the prefix (the chunk is a miss). */
    @FunctionalInterface
    private interface FoundChunk {
        boolean take(PrefixWalk.Match<TierStack.TierBuffer> match, MissNote note);
    }

    /**
     * The walk of {@code retrieve} and {@code retrieveLayerwise}: the cached prefix of {@code chunks} after the
     * mask, chunk by chunk from the fastest tier holding it (within the deadline), each handed to {@code found};
     * counted as a retrieve. The tokens retrieved.
     */
    private int walkRetrieve(PromptChunks chunks, int masked, long deadlineNanos, long startNanos, FoundChunk found) {
        touchMaskedChunks(chunks, masked);
        LoadBudget budget = budget(deadlineNanos, true);
        MissNote note = new MissNote();
        int end;
        // Reading ahead loads chunks before the budget admits them: only when it admits every load.
        try (RemoteLookup remote = RemoteLookup.of(tiers.slower(), chunks)
                .readingAhead(budget.unlimited() ? tiers.readAheadChunks() : 1)) {
            end = walk.walk(chunks, masked / chunkTokens,
                    (key, start, stop) -> tiers.get(key, start / chunkTokens, remote,
                            // the rate limit weighs loading against recomputing what the engine would: tokens after the mask
                            t -> admit(budget, t, start, stop - start, stop - masked, note)),
                    match -> found.take(match, note));
        }
        countMiss(chunks, masked / chunkTokens, end, note);
        int retrieved = Math.max(0, end - masked);
        if (budget.cut()) {
            counters.deadlineCuts.increment();
        }
        counters.retrieves.increment();
        counters.retrievedTokens.add(retrieved);
        counters.retrievedBytes.add((long) retrieved * layout.bytesPerToken());
        events.operation(KvEventListener.Operation.RETRIEVE, System.nanoTime() - startNanos, chunks.tokens(), retrieved);
        return retrieved;
    }

    @Override
    public LayerwiseRetrieval retrieveLayerwise(int[] tokens, boolean[] retrieveMask, EngineKvMemory kv, int[] slotMapping) {
        EngineKvMemory checked = KvArguments.engineMemory(kv, layout, true);
        EngineKvCopier engineKv = copier(checked);
        KvArguments.requireSlots(tokens, slotMapping, engineKv.numSlots());
        int masked = KvArguments.retrieveMaskPrefix(retrieveMask, tokens.length);
        KvArguments.requireReadableBy(kv, layerwise.thread());
        int[] ownSlots = slotMapping.clone(); // the engine may reuse its arrays as soon as this returns
        long startNanos = System.nanoTime();
        return guarded(() -> inForeground(() -> {
            List<LayerwiseLoad.Piece> pieces = new ArrayList<>();
            int retrieved = walkRetrieve(chunks(tokens), masked, -1, startNanos,
                    (match, note) -> keepChunk(match, pieces, masked, note));
            if (pieces.isEmpty()) {
                return LayerwiseRetrieval.completed(retrieved, layout.numLayers());
            }
            if (checked instanceof DeviceKvMemory device) {
                return DeviceLayerwise.retrieve(devices.require(device), device, ownSlots, masked, pieces, retrieved, layerwise);
            }
            LayerwiseLoad load = new LayerwiseLoad(pieces, engineKv, ownSlots, masked, layout.numLayers(), retrieved);
            try {
                layerwise.submit(() -> {
                    for (int layer = 0; layer < layout.numLayers(); layer++) {
                        int l = layer;
                        layerGate.accept(l);
                        if (!runIfOpen(() -> load.copyLayer(l))) {
                            load.fail(new IllegalStateException("KvConnector closed before layer " + l + " was loaded"));
                        }
                    }
                });
            } catch (IllegalStateException closing) {
                load.fail(closing); // nothing of it runs: release the chunks here
                throw closing;
            }
            return load;
        }));
    }

    @Override
    public LayerwiseStorage storeLayerwise(int[] tokens, boolean[] storeMask, EngineKvMemory kv, int[] slotMapping) {
        EngineKvMemory checked = KvArguments.engineMemory(kv, layout, false);
        EngineKvCopier engineKv = copier(checked);
        KvArguments.requireSlots(tokens, slotMapping, engineKv.numSlots());
        int skip = KvArguments.storeMaskPrefix(storeMask, tokens.length, chunkTokens);
        KvArguments.requireReadableBy(kv, layerwise.thread());
        int[] ownSlots = slotMapping.clone();
        long startNanos = System.nanoTime();
        return guarded(() -> inForeground(() -> {
            PromptChunks chunks = chunks(tokens.clone());
            Arena buffers = tiers.cpu().isEmpty() ? Arena.ofShared() : null;
            List<LayerwiseSave.Planned> planned = storer.plan(chunks, skip, ownSlots, buffers);
            java.util.function.IntConsumer onStored = stored -> events.operation(KvEventListener.Operation.STORE,
                    System.nanoTime() - startNanos, chunks.tokens(), stored);
            if (checked instanceof DeviceKvMemory device) {
                List<ChunkCopy> copies = planned.stream()
                        .map(p -> new ChunkCopy(chunks.start(p.index()), chunks.end(p.index()), p.memory())).toList();
                DeviceCopyEngine engine;
                try {
                    engine = devices.require(device);
                } catch (RuntimeException e) {
                    LayerwiseSave.release(planned, buffers);
                    throw e;
                }
                return DeviceLayerwise.store(engine, device, ownSlots, copies, ignored -> {
                    int stored = LayerwiseSave.publish(storer, chunks, planned, buffers);
                    onStored.accept(stored);
                    return stored;
                }, () -> LayerwiseSave.release(planned, buffers), layerwise);
            }
            return new LayerwiseSave(storer, chunks, planned, buffers, engineKv, ownSlots, layout.numLayers(), layerwise,
                    step -> {
                        layerGate.accept(-1);
                        boolean ran = runIfOpen(step);
                        layerGate.accept(-2);
                        return ran;
                    }, onStored::accept).start();
        }));
    }

    /** Tests: called on the layerwise copy thread before each step, which it may hold up. */
    void layerGate(java.util.function.IntConsumer gate) {
        this.layerGate = gate;
    }

    /** Runs {@code step} under the open guard; false, not run, once the connector is closed. */
    private boolean runIfOpen(Runnable step) {
        openGuard.readLock().lock();
        try {
            if (closed) {
                return false;
            }
            step.run();
            return true;
        } finally {
            openGuard.readLock().unlock();
        }
    }

    /** Keeps one found chunk of a layerwise retrieve, open until its layers are copied; false (a miss) when its size is wrong. */
    private boolean keepChunk(PrefixWalk.Match<TierStack.TierBuffer> match, List<LayerwiseLoad.Piece> pieces, int writeFrom,
                              MissNote note) {
        GuardedTier tier = match.value().tier();
        ChunkBuffer chunk = match.value().buffer();
        if (!sizeFits(match, note)) {
            closeChunk(chunk, tier);
            return false;
        }
        pieces.add(new LayerwiseLoad.Piece(chunk, match.start(), match.end()));
        counters.retrievedFrom(tier.name(), Math.max(0, match.end() - Math.max(match.start(), writeFrom)));
        reportLossy(match);
        return true;
    }

    /**
     * A found chunk was served: when its bytes came from a lossy codec, the cpu tier counts it (a slower tier counted its
     * own read) and listeners get a {@link org.lmcache4j.api.ChunkEvent.Type#SERVED_LOSSY} event.
     */
    private void reportLossy(PrefixWalk.Match<TierStack.TierBuffer> match) {
        if (match.value().lossy()) {
            tiers.servedLossy(match.value().tier());
            events.servedLossy(match.value().tier().name(), match.key(), match.start(), match.end());
        }
    }

    /** Runs a call the engine waits for: the write-behind lets it go first ({@link ForegroundActivity}). */
    private <T> T inForeground(Supplier<T> call) {
        ForegroundActivity foreground = tiers.foreground();
        foreground.begin();
        try {
            return call.get();
        } finally {
            foreground.end();
        }
    }

    /**
     * Copies one found chunk into engine memory; false (a miss) when its length does not fit the layout,
     * the tier's buffer fails while being read, or the buffer was no longer {@link ChunkBuffer#intact()
     * intact} after the copy (the tokens of this chunk then do not count as retrieved).
     */
    private boolean scatterChunk(PrefixWalk.Match<TierStack.TierBuffer> match, EngineKvCopier engineKv, int[] slots, int writeFrom,
                                 MissNote note) {
        int start = match.start();
        GuardedTier tier = match.value().tier();
        ChunkBuffer chunk = match.value().buffer();
        try {
            if (!sizeFits(match, note)) {
                return false;
            }
            engineKv.scatter(chunk.segment(), slots, start, match.end(), writeFrom);
            if (!chunk.intact()) { // a hold that outlived its lease (the pool): what was copied may be another chunk's
                note.note(start, MissReason.EVICTED, tier.name(), "its slot in the " + tier.name()
                        + " tier was reused while it was copied");
                return false;
            }
            counters.retrievedFrom(tier.name(), Math.max(0, match.end() - Math.max(start, writeFrom)));
            reportLossy(match);
            return true;
        } catch (RuntimeException e) {
            note.note(match.start(), MissReason.TIER_UNHEALTHY, tier.name(), "reading it from the " + tier.name()
                    + " tier failed: " + e);
            return tier.failed("read", e, false);
        } finally {
            closeChunk(chunk, tier);
        }
    }

    /** True when a found chunk holds the bytes its tokens need; else a miss, noted and counted as the tier's failure. */
    private boolean sizeFits(PrefixWalk.Match<TierStack.TierBuffer> match, MissNote note) {
        GuardedTier tier = match.value().tier();
        ChunkBuffer chunk = match.value().buffer();
        long expected = layout.chunkBytes(match.end() - match.start());
        if (chunk.sizeBytes() == expected) {
            return true;
        }
        note.note(match.start(), MissReason.CORRUPT, tier.name(), "the " + tier.name() + " tier returned " + chunk.sizeBytes()
                + " bytes (expected: " + expected + ")");
        return tier.failed("get", new IllegalStateException("chunk " + match.key() + " has " + chunk.sizeBytes()
                + " bytes (expected: " + expected + " for " + (match.end() - match.start()) + " tokens)"), false);
    }

    private static void closeChunk(ChunkBuffer chunk, GuardedTier tier) {
        try {
            chunk.close();
        } catch (RuntimeException e) {
            tier.failed("close", e, null);
        }
    }

    /**
     * Marks the chunks inside a retrieve mask as used: the engine holds their KV, so they are not copied,
     * but the prompts that share them must not lose their prefix to eviction.
     */
    private void touchMaskedChunks(PromptChunks chunks, int masked) {
        tiers.cpu().ifPresent(cpu -> {
            for (int i = 0; i < masked / chunkTokens && i < chunks.count(); i++) {
                cpu.touch(chunks.key(i));
            }
        });
    }

    @Override
    public int storeSegments(int[] tokens, List<KvSegment> segments, EngineKvMemory kv, int[] slotMapping) {
        EngineKvCopier engineKv = copier(KvArguments.engineMemory(kv, layout, false));
        KvArguments.requireSlots(tokens, slotMapping, engineKv.numSlots());
        KvSegment.requireWellFormed(segments, tokens.length);
        long startNanos = System.nanoTime();
        return guarded(() -> inForeground(() -> {
            int stored = 0;
            for (KvSegment s : segments) {
                stored += storeSegment(tokens, s, engineKv, slotMapping);
            }
            events.operation(KvEventListener.Operation.STORE, System.nanoTime() - startNanos, tokens.length, stored);
            return stored;
        }));
    }

    /**
     * Stores one segment's KV computed at its place in this prompt, unless the segment is cached already at another
     * position: KV chunks first, then the manifest that names their position, so a reader that finds the manifest
     * finds the chunks. A manifest whose chunks are all gone is replaced.
     */
    private int storeSegment(int[] tokens, KvSegment s, EngineKvCopier engineKv, int[] slots) {
        ChunkKey id = segmentKeys.identity(tokens, s.start(), s.end());
        PromptChunks manifest = segmentKeys.manifest(id, SegmentManifest.tokens(layout));
        OptionalInt cachedAt = readManifest(manifest, s.length());
        if (cachedAt.isPresent() && cachedAt.getAsInt() != s.start()) {
            if (tiers.holding(segmentChunks(id, cachedAt.getAsInt(), tokens, s).key(0)).isPresent()) {
                return 0; // cached at another position: one copy per segment
            }
            tiers.all().forEach(t -> t.remove(manifest.key(0))); // stale: its chunks are gone
            cachedAt = OptionalInt.empty();
        }
        int[] segmentSlots = Arrays.copyOfRange(slots, s.start(), s.end());
        PromptChunks kvChunks = segmentChunks(id, s.start(), tokens, s);
        int stored = storer.store(kvChunks, 0, engineKv, segmentSlots);
        if (cachedAt.isEmpty() && tiers.holding(kvChunks.key(0)).isPresent()) {
            storer.storeBytes(manifest, 0, SegmentManifest.write(layout, s.start(), s.length()));
        }
        return stored;
    }

    @Override
    public List<SegmentMatch> lookupSegments(int[] tokens, List<KvSegment> segments) {
        KvArguments.requireTokens(tokens);
        KvSegment.requireWellFormed(segments, tokens.length);
        return guarded(() -> segments.stream().map(s -> {
            ChunkKey id = segmentKeys.identity(tokens, s.start(), s.end());
            OptionalInt cachedAt = readManifest(segmentKeys.manifest(id, SegmentManifest.tokens(layout)), s.length());
            if (cachedAt.isEmpty()) {
                return SegmentMatch.miss(s);
            }
            int held = walk.walk(segmentChunks(id, cachedAt.getAsInt(), tokens, s), 0,
                    (key, start, end) -> tiers.holding(key), match -> true);
            return held == 0 ? SegmentMatch.miss(s) : new SegmentMatch(s, held, cachedAt.getAsInt());
        }).toList());
    }

    @Override
    public List<SegmentMatch> retrieveSegments(int[] tokens, List<KvSegment> segments, EngineKvMemory kv, int[] slotMapping) {
        EngineKvCopier engineKv = copier(KvArguments.engineMemory(kv, layout, true));
        KvArguments.requireSlots(tokens, slotMapping, engineKv.numSlots());
        KvSegment.requireWellFormed(segments, tokens.length);
        return guarded(() -> inForeground(() -> {
            List<SegmentMatch> found = new ArrayList<>(segments.size());
            for (KvSegment s : segments) {
                long startNanos = System.nanoTime();
                ChunkKey id = segmentKeys.identity(tokens, s.start(), s.end());
                OptionalInt cachedAt = readManifest(segmentKeys.manifest(id, SegmentManifest.tokens(layout)), s.length());
                if (cachedAt.isEmpty()) {
                    found.add(SegmentMatch.miss(s));
                    continue;
                }
                int[] segmentSlots = Arrays.copyOfRange(slotMapping, s.start(), s.end());
                int n = walkRetrieve(segmentChunks(id, cachedAt.getAsInt(), tokens, s), 0, -1, startNanos,
                        (match, note) -> scatterChunk(match, engineKv, segmentSlots, 0, note));
                found.add(n == 0 ? SegmentMatch.miss(s) : new SegmentMatch(s, n, cachedAt.getAsInt()));
            }
            return found;
        }));
    }

    private PromptChunks segmentChunks(ChunkKey id, int position, int[] tokens, KvSegment s) {
        return segmentKeys.kv(id, position, Arrays.copyOfRange(tokens, s.start(), s.end()));
    }

    /** The position a segment's manifest names, from the fastest tier holding it; empty when none holds a valid one. */
    private OptionalInt readManifest(PromptChunks manifest, int segmentLength) {
        Optional<TierStack.TierBuffer> held = tiers.get(manifest.key(0), t -> true);
        if (held.isEmpty()) {
            return OptionalInt.empty();
        }
        ChunkBuffer chunk = held.get().buffer();
        try {
            return SegmentManifest.read(chunk.segment(), layout, segmentLength);
        } catch (RuntimeException e) {
            held.get().tier().failed("read", e, null);
            return OptionalInt.empty();
        } finally {
            closeChunk(chunk, held.get().tier());
        }
    }

    @Override
    public CompletableFuture<Integer> prefetch(int[] tokens) {
        KvArguments.requireTokens(tokens);
        return guarded(() -> {
            if (tiers.slower().isEmpty() || tiers.cpu().isEmpty()) {
                return CompletableFuture.completedFuture(walk.walk(chunks(tokens), 0,
                        (key, start, end) -> tiers.holding(key), match -> true));
            }
            int[] copy = tokens.clone();
            return prefetcher.submit(() -> guarded(() -> {
                java.util.Set<ChunkKey> placed = new java.util.HashSet<>(); // kept while the walk goes on: the prefix it reports
                return walk.walk(chunks(copy), 0, (key, start, end) -> {
                    if (prefetcher.closing() || !tiers.promote(key, placed)) {
                        return Optional.empty();
                    }
                    placed.add(key);
                    return Optional.of(Boolean.TRUE);
                }, match -> true);
            }));
        });
    }

    @Override
    public void clear() {
        stores.awaitSubmitted(); // stores started before clear are cleared too, not stored after it
        guarded(() -> {
            pins.clear(); // their chunks are gone; a late close must not unpin new ones
            tiers.clear();
            partialTails.clear();
            return null;
        });
    }

    /** Chunks waiting to be written behind, read without the rest of {@link #stats()} (no remote call): for benchmarks. */
    long writeBehindQueued() {
        return tiers.writeBehindQueued();
    }

    @Override
    public boolean awaitReady(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: >= 0)");
        }
        guarded(() -> null); // closed: throws (the wait itself runs outside the lock, so close() never waits for it)
        long deadline = System.nanoTime() + timeout.toNanos();
        return hasherWarmUp.await(timeout.toNanos())
                && tiers.cpu().map(c -> c.awaitReady(Math.max(0, deadline - System.nanoTime()))).orElse(true)
                && tiers.awaitSlowerReady(deadline);
    }

    @Override
    public CacheStats stats() {
        return guarded(() -> counters.snapshot(tiers.evictions(), tiers.promotions(), tiers.demotions(),
                tiers.writeBehindDropped(), tiers.writeBehindQueued(), tiers.stats()));
    }

    @Override
    public void close() {
        prefetcher.startClosing(); // a prefetch running now stops at its next chunk instead of holding close() up
        // Before the lock: queued stores run (under the read lock) for a bounded time, then the rest fail and the
        // running one stops at its next chunk; taking the write lock then waits for it, so no background copy
        // reads engine memory after close returns.
        stores.close();
        layerwise.close(); // the same for layerwise copies: queued steps run, unfinished stores fail
        openGuard.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            prefetcher.close();
            copyLanes.close();
            tiers.close();
            devices.close();
            if (!hasherWarmUp.awaitThreadEnd(CLOSE_WAIT_MILLIS)) {
                LOG.warn("the chunk hasher's warm-up thread still runs {} ms after close began", CLOSE_WAIT_MILLIS);
            }
            LOG.info("lmcache4j connector closed");
        } finally {
            openGuard.writeLock().unlock();
        }
    }

    /** The tiers (tests look inside). */
    TierStack tierStack() {
        return tiers;
    }

    /** Pin handles tracked now, after dropping the expired ones (tests use it to prove none leaks). */
    long livePinCount() {
        return pins.liveCount();
    }

    /** The background stores of {@code storeAsync} (tests look inside). */
    StoreQueue storeQueue() {
        return stores;
    }

    /** Pages held by the cpu tier now (tests use it to prove nothing leaks); 0 without a cpu tier. */
    int outstandingPages() {
        return tiers.cpu().map(CpuTier::outstandingPages).orElse(0);
    }

    /** The copier of one call's engine memory: host KV directly, device KV through a device copy engine. */
    private EngineKvCopier copier(EngineKvMemory kv) {
        return switch (kv) {
            case HostKvMemory host -> EngineKvCopier.host(host, copyLanes);
            case DeviceKvMemory device -> EngineKvCopier.device(device, devices.require(device));
        };
    }

    /** The chunks of {@code tokens} (tests name a prompt's chunk keys with it). */
    PromptChunks chunks(int[] tokens) {
        return new PromptChunks(hasher, tokens, chunkTokens, config.saveUnfullChunk());
    }

    private LoadBudget budget(long deadlineNanos, boolean realTime) {
        return LoadBudget.of(deadlineNanos, config.recomputeTokensPerSecond(), nanoClock, realTime);
    }

    /**
     * Whether {@code budget} lets tier {@code t} load the chunk starting at token {@code start}, of
     * {@code tokens} tokens, counted as ending at {@code end}; a refusal is noted as the chunk's miss reason.
     */
    private boolean admit(LoadBudget budget, GuardedTier t, int start, int tokens, int end, MissNote note) {
        if (budget.admit(t, layout.chunkBytes(tokens), end)) {
            return true;
        }
        note.note(start, MissReason.DEADLINE, t.name(), "held by the " + t.name()
                + " tier, but it would not arrive within the deadline or faster than recomputing it");
        return false;
    }

    /** Counts the chunk that ended a walk from chunk {@code firstChunk} at token {@code end}, if one did. */
    private void countMiss(PromptChunks chunks, int firstChunk, int end, MissNote note) {
        misses.missed(chunks, firstChunk, end, note).ifPresent(m -> counters.missed(m.miss().reason(), m.miss().tier()));
    }

    private void countLookup(int tokens, int hit, LoadBudget budget) {
        if (budget.cut()) {
            counters.deadlineCuts.increment();
        }
        counters.lookedUp(tokens, hit);
    }

    // ---- open-state guard --------------------------------------------------------------------------

    private <T> T guarded(Supplier<T> body) {
        openGuard.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("KvConnector closed (expected: calls before close())");
            }
            return body.get();
        } finally {
            openGuard.readLock().unlock();
        }
    }

    private void guardedIfOpen(Runnable body) {
        openGuard.readLock().lock();
        try {
            if (!closed) {
                body.run();
            }
        } finally {
            openGuard.readLock().unlock();
        }
    }
}
