package org.lmcache4j.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.EngineKvMemory;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvEventListener;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.LookupExplanation;
import org.lmcache4j.api.MissReason;
import org.lmcache4j.api.PrefixPin;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
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
 * memory is freed.
 */
final class TieredCacheEngine implements KvConnector {

    private static final Logger LOG = LoggerFactory.getLogger(TieredCacheEngine.class);
    private static final int PARTIAL_TAIL_PARENTS = 1 << 16;
    /**
     * Pin handles tracked at most; past it, handles are forgotten early: their pins then last until the
     * timeout (a close can no longer end them sooner), which is what a handle never closed costs anyway.
     */
    static final int MAX_LIVE_PINS = 1 << 16;
    /** How much earlier than the pin timeout a slower tier's pin stops being unpinned by a close (at most). */
    static final long SLOWER_TIER_UNPIN_MARGIN_NANOS = 5_000_000_000L;
    private static final int CPU_PIN_STRIPES = 64;

    private final LmCacheConfig config;
    private final KvLayout layout;
    private final int chunkTokens;
    private final ChunkHasher hasher;
    private final TierStack tiers;
    private final ExecutorService prefetcher;
    private final PartialTails partialTails = new PartialTails(PARTIAL_TAIL_PARENTS);
    private final PrefixWalk walk;
    private final KvEvents events = new KvEvents();
    private final MissClassifier misses;
    private final LookupExplainer explainer;
    private final ConnectorCounters counters = new ConnectorCounters();
    private final Duration pinTimeout;
    private final LongSupplier nanoClock;
    /** Handles whose pins a close may still end; they leave when closed, at their timeout, or on clear. */
    private final Cache<ChunkPins, Boolean> livePins;
    /** Serialize a cpu pin with a handle's deadline check and unpin of the same key (see {@link #unpin}). */
    private final Object[] cpuPinStripes = new Object[CPU_PIN_STRIPES];
    private final ReentrantReadWriteLock openGuard = new ReentrantReadWriteLock();
    private final DeviceCopiers devices = DeviceCopiers.fromServiceLoader();
    private final Set<CompletableFuture<Integer>> pendingPrefetches = ConcurrentHashMap.newKeySet();
    private boolean closed;
    private volatile boolean closing;

    TieredCacheEngine(LmCacheConfig config, KvLayout layout) {
        this(config, layout, System::nanoTime, UnaryOperator.identity(), slowerTiers(config, layout));
    }

    /**
     * The slower tiers the config asks for, fastest first: the disk tier when {@code localDisk} is set, in
     * the namespace's own subdirectory, then the remote tier when {@code remoteUrl} is set. When another
     * connector of the same namespace holds that directory (a second replica on the machine), this one
     * runs without a disk tier rather than failing. A malformed remote URL fails here, before anything is
     * opened; an unreachable server does not (the remote tier fails and recovers at run time).
     */
    private static void closeQuietly(StorageTier tier) {
        try {
            tier.close();
        } catch (RuntimeException e) {
            LOG.warn("closing the {} tier after a failed open failed: {}", tier.name(), e.toString());
        }
    }

    private static List<StorageTier> slowerTiers(LmCacheConfig config, KvLayout layout) {
        if (config == null || layout == null) {
            return List.of();
        }
        requireModelIdForSharedTiers(config);
        CacheIdentity identity = config.identity(layout);
        RemoteTier remote = config.remoteUrl().map(url -> RemoteTier.open(url, identity)).orElse(null);
        List<StorageTier> tiers = new ArrayList<>();
        boolean ok = false;
        try {
            if (config.localDisk().isPresent()) {
                if (config.maxLocalDiskBytes() <= 0) {
                    throw new IllegalArgumentException("maxLocalDiskBytes: " + config.maxLocalDiskBytes()
                            + " (expected: > 0 when localDisk is set to " + config.localDisk().get() + ")");
                }
                Path dir = config.localDisk().get().resolve(identity.directoryName());
                try {
                    tiers.add(new DiskTier(dir, config.maxLocalDiskBytes(), identity));
                } catch (DiskDirectoryBusyException e) {
                    LOG.warn("{}; this connector runs without a disk tier", e.getMessage());
                } catch (IdentityMismatchException e) {
                    LOG.warn("{}; this connector runs without a disk tier", e.getMessage());
                    tiers.add(new RefusedTier(DiskTier.NAME, e.getMessage()));
                }
            }
            if (remote != null) {
                tiers.add(remote);
            }
            ok = true;
            return tiers;
        } finally {
            if (!ok && remote != null) {
                remote.close();
            }
        }
    }

    /**
     * KV on disk or in a shared store outlives the process that computed it, so it must say which weights
     * computed it: without a model id, a base model and its fine-tune (same layout) would be served each
     * other's KV with every check passing.
     */
    private static void requireModelIdForSharedTiers(LmCacheConfig config) {
        if (config.hasModelId() || (config.localDisk().isEmpty() && config.remoteUrl().isEmpty())) {
            return;
        }
        String tiers = config.localDisk().map(d -> "a disk tier at " + d).orElse("")
                + (config.localDisk().isPresent() && config.remoteUrl().isPresent() ? " and " : "")
                + (config.remoteUrl().isPresent() ? "a remote tier" : "");
        throw new IllegalArgumentException("modelId: not set (expected: the model's identity, set with "
                + "LmCacheConfig.builder().modelId(...) or LMCACHE_MODEL_ID, because this connector has " + tiers
                + ", whose KV outlives this process: without it, two models with the same KV layout, such as a base model"
                + " and its fine-tune, would be served each other's KV. Use a name that changes with the weights:"
                + " name + revision, or a digest of the weights; or turn those tiers off (noLocalDisk(), no remoteUrl)"
                + " for a cpu-only cache)");
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
        if (config == null || layout == null) {
            throw new IllegalArgumentException("config and layout: must not be null");
        }
        this.config = config;
        this.layout = layout;
        this.chunkTokens = config.chunkTokens();
        this.hasher = ChunkHasher.create(config.hashAlgorithm(), config.namespace(layout));
        this.pinTimeout = Duration.ofMillis(config.pinTimeoutMillis());
        this.nanoClock = nanoClock;
        this.livePins = Caffeine.newBuilder().expireAfterWrite(pinTimeout).maximumSize(MAX_LIVE_PINS)
                .ticker(nanoClock::getAsLong).executor(Runnable::run).build();
        Arrays.setAll(cpuPinStripes, i -> new Object());
        this.walk = new PrefixWalk(config.saveUnfullChunk() ? partialTails : null);
        long chunkBytes = layout.chunkBytes(chunkTokens);
        boolean ok = false;
        try {
            if (config.localCpu() && config.maxLocalCpuBytes() < chunkBytes) {
                throw new IllegalArgumentException("maxLocalCpuBytes: " + config.maxLocalCpuBytes() + " (expected: at least one chunk, "
                        + chunkTokens + " tokens x " + layout.bytesPerToken() + " bytes = " + chunkBytes + " bytes)");
            }
            this.tiers = new TierStack(config.localCpu() ? config.maxLocalCpuBytes() : 0, chunkBytes, nanoClock, tierDecorator,
                    slowerTiers, events);
            ok = true;
        } finally {
            if (!ok) {
                // a failed open must not keep the slower tiers it was given (a disk tier holds its directory's lock)
                slowerTiers.forEach(TieredCacheEngine::closeQuietly);
            }
        }
        this.misses = new MissClassifier(tiers, events.departures(), config.saveUnfullChunk() ? partialTails : null);
        this.explainer = new LookupExplainer(tiers, walk, misses, chunkTokens);
        this.prefetcher = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("lmcache-prefetch").factory());
        warnAboutTiersNotInThisBuild();
        LOG.info("lmcache4j connector open: layout {} ({} bytes/token, fingerprint {}), {} tokens/chunk, tiers {}, config {}",
                layout, layout.bytesPerToken(), layout.fingerprint(), chunkTokens,
                tiers.all().stream().map(GuardedTier::name).toList(), config);
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
                            .filter(t -> admit(budget, t, key, end - start, end, note)),
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
                    tiers.holding(key, start / chunkTokens, remote).filter(t -> admit(budget, t, key, end - start, end, note)));
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
            // Deadlines are read before any pin is taken, so an unpin before a pin's deadline comes before the
            // tier's own expiry of that pin (each tier reads its clock later). Slower tiers keep a margin: the
            // remote tier's pins expire by the server's clock, and an unpin reaches the server a while later.
            long timeoutNanos = saturatedNanos(pinTimeout);
            long cpuDeadline = nanoClock.getAsLong() + timeoutNanos;
            long slowerDeadline = cpuDeadline - Math.min(SLOWER_TIER_UNPIN_MARGIN_NANOS, timeoutNanos / 4);
            List<ChunkPins.Pin> pins = new ArrayList<>();
            LoadBudget budget = budget(-1, false);
            PromptChunks chunks = chunks(tokens);
            RemoteLookup remote = RemoteLookup.of(tiers.slower(), chunks);
            MissNote note = new MissNote();
            int hit = walk.walk(chunks, 0,
                    (key, start, end) -> tiers.holding(key, start / chunkTokens, remote)
                            .filter(t -> admit(budget, t, key, end - start, end, note))
                            .filter(t -> pin(t, key)),
                    match -> pins.add(new ChunkPins.Pin(match.value(), match.key(),
                            match.value() == tiers.cpuGuard() ? cpuDeadline : slowerDeadline)));
            countLookup(tokens.length, hit, budget);
            countMiss(chunks, 0, hit, note);
            ChunkPins handle = new ChunkPins(hit, pins, this::unpin);
            if (!pins.isEmpty()) {
                livePins.put(handle, Boolean.TRUE);
            }
            return handle;
        });
    }

    @Override
    public int store(int[] tokens, boolean[] storeMask, EngineKvMemory kv, int[] slotMapping) {
        EngineKvCopier engineKv = copier(KvArguments.engineMemory(kv, layout, false));
        KvArguments.requireSlots(tokens, slotMapping, engineKv.numSlots());
        int skip = KvArguments.storeMaskPrefix(storeMask, tokens.length, chunkTokens);
        long startNanos = System.nanoTime();
        return guarded(() -> {
            int stored = storeChunks(chunks(tokens), skip, engineKv, slotMapping);
            events.operation(KvEventListener.Operation.STORE, System.nanoTime() - startNanos, tokens.length, stored);
            return stored;
        });
    }

    private int storeChunks(PromptChunks chunks, int skipTokens, EngineKvCopier engineKv, int[] slots) {
        if (tiers.cpu().isEmpty()) {
            return storeWithoutCpuTier(chunks, skipTokens, engineKv, slots);
        }
        CpuTier cpu = tiers.cpu().get();
        GuardedTier cpuGuard = tiers.cpuGuard();
        Set<ChunkKey> kept = new HashSet<>(); // this call's prefix: never evicted to make room for its own tail
        int stored = 0;
        for (int i = skipTokens / chunkTokens; i < chunks.count(); i++) {
            int from = chunks.start(i);
            int to = chunks.end(i);
            if (KvArguments.anyNegative(slots, from, to)) {
                break; // this chunk's KV is not in engine memory; later chunks would not be a prefix
            }
            ChunkKey key = chunks.key(i);
            if (cpuGuard.contains(key)) {
                cpu.touch(key);
                kept.add(key);
                counters.storeSkippedChunks.increment();
                continue;
            }
            long bytes = layout.chunkBytes(to - from);
            Optional<ChunkPage> page;
            try {
                page = cpuGuard.succeeded(cpu.reserve(bytes, kept));
            } catch (RuntimeException | OutOfMemoryError e) {
                page = cpuGuard.failed("reserve", e, Optional.empty());
            }
            if (page.isEmpty()) {
                counters.storeDroppedChunks.increment();
                events.departures().record(key, MissReason.PINNED_FULL, cpuGuard.name());
                break;
            }
            try {
                engineKv.gather(slots, from, to, page.get().memory());
            } catch (Throwable t) {
                page.get().release();
                throw t;
            }
            kept.add(key);
            if (!cpu.commit(key, page.get(), bytes)) {
                counters.storeSkippedChunks.increment(); // another store of the same prefix won the race
                continue;
            }
            events.stored(cpuGuard.name(), key, chunks.parent(i), from, to);
            tiers.writeBehind(key);
            if (to - from < chunkTokens) {
                partialTails.add(chunks.parent(i), to - from);
            }
            stored += to - from;
            counters.storedChunks.increment();
            counters.storedBytes.add(bytes);
        }
        return stored;
    }

    /**
     * Without a cpu tier, each chunk is gathered into a temporary buffer and put into the slower tiers. Only
     * chunks at least one tier took are stored; the first chunk none took ends the stored prefix.
     */
    private int storeWithoutCpuTier(PromptChunks chunks, int skipTokens, EngineKvCopier engineKv, int[] slots) {
        int stored = 0;
        for (int i = skipTokens / chunkTokens; i < chunks.count() && !tiers.slower().isEmpty(); i++) {
            int from = chunks.start(i);
            int to = chunks.end(i);
            if (KvArguments.anyNegative(slots, from, to)) {
                break;
            }
            ChunkKey key = chunks.key(i);
            if (tiers.holding(key).isPresent()) {
                counters.storeSkippedChunks.increment();
                continue;
            }
            boolean taken;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment chunk = arena.allocate(layout.chunkBytes(to - from), 64);
                engineKv.gather(slots, from, to, chunk);
                taken = tiers.putSlower(key, chunk);
            }
            if (!taken) {
                counters.storeDroppedChunks.increment();
                break; // later chunks would not be a prefix
            }
            stored += to - from;
            counters.storedChunks.increment();
            counters.storedBytes.add(layout.chunkBytes(to - from));
        }
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
        return guarded(() -> {
            PromptChunks chunks = chunks(tokens);
            touchMaskedChunks(chunks, masked);
            LoadBudget budget = budget(deadlineNanos, true);
            RemoteLookup remote = RemoteLookup.of(tiers.slower(), chunks);
            MissNote note = new MissNote();
            int end = walk.walk(chunks, masked / chunkTokens,
                    (key, start, stop) -> tiers.get(key, start / chunkTokens, remote,
                            // the rate limit weighs loading against recomputing what the engine would: tokens after the mask
                            t -> admit(budget, t, key, stop - start, stop - masked, note)),
                    match -> scatterChunk(match, engineKv, slotMapping, masked, note));
            countMiss(chunks, masked / chunkTokens, end, note);
            int retrieved = Math.max(0, end - masked);
            if (budget.cut()) {
                counters.deadlineCuts.increment();
            }
            counters.retrieves.increment();
            counters.retrievedTokens.add(retrieved);
            counters.retrievedBytes.add((long) retrieved * layout.bytesPerToken());
            events.operation(KvEventListener.Operation.RETRIEVE, System.nanoTime() - startNanos, tokens.length, retrieved);
            return retrieved;
        });
    }

    /**
     * Copies one found chunk into engine memory; false (a miss) when its length does not fit the layout
     * or the tier's buffer fails while being read (the tokens of this chunk then do not count as retrieved).
     */
    private boolean scatterChunk(PrefixWalk.Match<TierStack.TierBuffer> match, EngineKvCopier engineKv, int[] slots, int writeFrom,
                                 MissNote note) {
        int start = match.start();
        GuardedTier tier = match.value().tier();
        ChunkBuffer chunk = match.value().buffer();
        try {
            long expected = layout.chunkBytes(match.end() - start);
            if (chunk.sizeBytes() != expected) {
                note.note(match.key(), MissReason.CORRUPT, tier.name(), "the " + tier.name() + " tier returned " + chunk.sizeBytes()
                        + " bytes (expected: " + expected + ")");
                return tier.failed("get", new IllegalStateException("chunk " + match.key() + " has " + chunk.sizeBytes()
                        + " bytes (expected: " + expected + " for " + (match.end() - start) + " tokens)"), false);
            }
            engineKv.scatter(chunk.segment(), slots, start, match.end(), writeFrom);
            counters.retrievedFrom(tier.name(), Math.max(0, match.end() - Math.max(start, writeFrom)));
            return true;
        } catch (RuntimeException e) {
            note.note(match.key(), MissReason.TIER_UNHEALTHY, tier.name(), "reading it from the " + tier.name()
                    + " tier failed: " + e);
            return tier.failed("read", e, false);
        } finally {
            try {
                chunk.close();
            } catch (RuntimeException e) {
                tier.failed("close", e, null);
            }
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
    public CompletableFuture<Integer> prefetch(int[] tokens) {
        KvArguments.requireTokens(tokens);
        return guarded(() -> {
            if (tiers.slower().isEmpty() || tiers.cpu().isEmpty()) {
                return CompletableFuture.completedFuture(walk.walk(chunks(tokens), 0,
                        (key, start, end) -> tiers.holding(key), match -> true));
            }
            int[] copy = tokens.clone();
            // Not supplyAsync: close() completes the futures of prefetches that never ran, which it cannot see in the
            // executor's queue; a prefetch running at close stops at its next chunk (closing).
            CompletableFuture<Integer> result = new CompletableFuture<>();
            pendingPrefetches.add(result);
            result.whenComplete((hit, failure) -> pendingPrefetches.remove(result));
            prefetcher.execute(() -> {
                if (result.isDone()) {
                    return; // completed by close(), or cancelled
                }
                try {
                    result.complete(guarded(() -> walk.walk(chunks(copy), 0,
                            (key, start, end) -> !closing && tiers.promote(key) ? Optional.of(Boolean.TRUE) : Optional.empty(),
                            match -> true)));
                } catch (RuntimeException | Error e) {
                    result.completeExceptionally(e);
                }
            });
            return result;
        });
    }

    /** Pins {@code key} in {@code tier}: in the cpu tier under the key's stripe (see {@link #unpin}). */
    private boolean pin(GuardedTier tier, ChunkKey key) {
        if (tier != tiers.cpuGuard()) {
            return tier.pin(key, pinTimeout);
        }
        synchronized (cpuPinStripe(key)) {
            return tier.pin(key, pinTimeout);
        }
    }

    /**
     * Ends the pins of a closed handle that are still in force, unless the connector closed meanwhile
     * (everything is gone anyway) or the handle is no longer tracked (it timed out, or clear removed its
     * chunks). In the cpu tier, whose clock is this engine's, each deadline check and its unpin hold the
     * key's stripe, which {@link #pin} holds too: no other handle's pin can restart the tier's count of the
     * key between them. Slower tiers rely on the margin taken off their pins' deadlines.
     */
    private void unpin(ChunkPins handle) {
        guardedIfOpen(() -> {
            if (livePins.asMap().remove(handle) == null) {
                return;
            }
            for (ChunkPins.Pin p : handle.pins()) {
                if (p.tier() == tiers.cpuGuard()) {
                    synchronized (cpuPinStripe(p.key())) {
                        unpinInForce(p);
                    }
                } else {
                    unpinInForce(p);
                }
            }
        });
    }

    private void unpinInForce(ChunkPins.Pin p) {
        if (p.inForce(nanoClock.getAsLong())) {
            p.tier().unpin(p.key());
        }
    }

    private Object cpuPinStripe(ChunkKey key) {
        return cpuPinStripes[Math.floorMod(key.hashCode(), CPU_PIN_STRIPES)];
    }

    /** {@code d} in nanoseconds, or {@code Long.MAX_VALUE} when longer than that (about 292 years). */
    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public void clear() {
        guarded(() -> {
            livePins.invalidateAll(); // their chunks are gone; a late close must not unpin new ones
            tiers.clear();
            partialTails.clear();
            return null;
        });
    }

    @Override
    public CacheStats stats() {
        return guarded(() -> counters.snapshot(tiers.evictions(), tiers.promotions(), tiers.demotions(),
                tiers.writeBehindDropped(), tiers.writeBehindQueued(), tiers.stats()));
    }

    @Override
    public void close() {
        closing = true; // a prefetch running now stops at its next chunk instead of holding close() up
        openGuard.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            prefetcher.shutdownNow();
            for (CompletableFuture<Integer> queued : pendingPrefetches) {
                queued.completeExceptionally(new IllegalStateException("KvConnector closed before the prefetch ran"));
            }
            tiers.close();
            devices.close();
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
        livePins.cleanUp();
        return livePins.estimatedSize();
    }

    /** Pages held by the cpu tier now (tests use it to prove nothing leaks); 0 without a cpu tier. */
    int outstandingPages() {
        return tiers.cpu().map(CpuTier::outstandingPages).orElse(0);
    }

    /** The copier of one call's engine memory: host KV directly, device KV through a device copy engine. */
    private EngineKvCopier copier(EngineKvMemory kv) {
        return switch (kv) {
            case HostKvMemory host -> EngineKvCopier.host(host);
            case DeviceKvMemory device -> EngineKvCopier.device(device, devices.require(device));
        };
    }

    private PromptChunks chunks(int[] tokens) {
        return new PromptChunks(hasher, tokens, chunkTokens, config.saveUnfullChunk());
    }

    private LoadBudget budget(long deadlineNanos, boolean realTime) {
        return LoadBudget.of(deadlineNanos, config.recomputeTokensPerSecond(), nanoClock, realTime);
    }

    /**
     * Whether {@code budget} lets tier {@code t} load chunk {@code key} of {@code tokens} tokens ending at
     * {@code end}; a refusal is noted as the chunk's miss reason.
     */
    private boolean admit(LoadBudget budget, GuardedTier t, ChunkKey key, int tokens, int end, MissNote note) {
        if (budget.admit(t, layout.chunkBytes(tokens), end)) {
            return true;
        }
        note.note(key, MissReason.DEADLINE, t.name(), "held by the " + t.name()
                + " tier, but it would not arrive within the deadline or faster than recomputing it");
        return false;
    }

    /**
     * Counts the chunk that ended a walk from chunk {@code firstChunk} at token {@code end}, if a whole
     * chunk did (a prefix ending inside a chunk matched a stored partial tail: nothing was missed there).
     */
    private void countMiss(PromptChunks chunks, int firstChunk, int end, MissNote note) {
        int missed = firstMissedChunk(chunks, firstChunk, end);
        if (missed >= 0) {
            MissClassifier.Miss m = note.of(chunks.key(missed)).orElseGet(
                    () -> misses.classify(chunks.key(missed), chunks.parent(missed)));
            counters.missed(m.reason(), m.tier());
        }
    }

    /** The chunk a walk from {@code firstChunk} that ended at token {@code end} could not match; -1 for none. */
    private int firstMissedChunk(PromptChunks chunks, int firstChunk, int end) {
        if (end == 0) {
            return firstChunk < chunks.count() ? firstChunk : -1;
        }
        if (end % chunkTokens != 0) {
            return -1;
        }
        int i = end / chunkTokens;
        return i < chunks.count() && i >= firstChunk ? i : -1;
    }

    private void countLookup(int tokens, int hit, LoadBudget budget) {
        if (budget.cut()) {
            counters.deadlineCuts.increment();
        }
        counters.lookups.increment();
        counters.lookupTokens.add(tokens);
        counters.lookupHitTokens.add(hit);
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
