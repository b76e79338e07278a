package org.lmcache4j.storage.engine;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.cpu.ChunkPage;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.storage.cpu.SlabRegistrar;
import org.lmcache4j.storage.tier.HeldChunkBuffer;

/**
 * The tiers of one connector, fastest first: the cpu tier (when on) and slower ones (disk, remote).
 * Stores land in the cpu tier synchronously and are written behind to each slower tier; chunks the cpu
 * tier evicts are demoted to the slower tiers that lack them; a chunk read from a slower tier is
 * promoted into the cpu tier. Every tier is reached through its {@link GuardedTier}.
 *
 * <p>Implementation notes. Nothing slower than the cpu tier is touched on a store's thread: demotions go
 * through the same bounded write-behind queues as stores ({@link WriteBehind}; a full queue drops and
 * counts), the evicted chunk's page held until the writer is done with it. To keep evictions cheap, the
 * cpu tier marks each chunk with the slower tiers known to hold it (bit i for slower tier i: set when a
 * writer placed or found it there or it was promoted from there, cleared when that tier reports evicting
 * it); an eviction holds the page only for the tiers not marked, so the common case (written behind
 * earlier) frees the page at once, as before. A slower tier that loses a chunk without reporting it (a
 * remote server's own eviction) keeps its mark, so that chunk is not demoted there again.
 *
 * <p>Without a cpu tier, a first slower tier that {@link StorageTier#servesInPlace() serves in place} (the
 * node-shared pool) takes the cpu tier's place on the store path: a store puts the chunk there synchronously and
 * the tiers under it are written behind from it, each queued chunk held in that tier until written
 * ({@link #staging}). Other tiers without a cpu tier are written synchronously, one after the other.
 *
 * <p>A chunk read from a tier whose codec is lossy ({@link StorageTier#servesLossy}) is promoted only by reading it into
 * a cpu page, committed there as lossy: the cpu tier never demotes it (in another tier it would pass for exact KV), and
 * each {@link TierBuffer} says whether its bytes came from a lossy codec, so a retrieve can report it.
 */
final class TierStack implements AutoCloseable {

    /**
     * Chunks a retrieve reads from the remote tier, or a local tier that pipelines reads (disk), in one batch
     * ({@link StorageTier#readAheadChunks}); 1 without a cpu tier (nowhere to read ahead into).
     */
    int readAheadChunks() {
        return cpu == null ? 1 : StorageTier.readAheadChunks(cpu.pageBytes());
    }

    /** Chunks that may wait for each slower tier before new ones are dropped. */
    static final int WRITE_BEHIND_CHUNKS = 64;

    private final CpuTier cpu; // null when the cpu tier is off
    private final GuardedTier cpuGuard;
    private final List<GuardedTier> slower;
    private final List<GuardedTier> all;
    private final List<WriteBehind> writers = new ArrayList<>();
    /** Without a cpu tier: the first slower tier when it serves in place and has tiers under it; else null. */
    private final GuardedTier staging;
    private final LongAdder promotions = new LongAdder();
    private final ForegroundActivity foreground = new ForegroundActivity();
    /** Pages kept by demotions in the queues; capped, so evictions cannot empty the cpu tier into a backlog. */
    private final java.util.concurrent.atomic.AtomicInteger demotionHolds = new java.util.concurrent.atomic.AtomicInteger();
    private final LongAdder demotionsDropped = new LongAdder();
    private final int maxDemotionHolds;
    private final KvEvents events;
    /** True when a slower tier's codec is lossy: only then can the cpu tier hold lossy chunks. */
    private final boolean lossyBelow;

    /**
     * @param cpuBudgetBytes budget of the cpu tier, or 0 for none
     * @param chunkBytes     bytes of a full chunk
     * @param slowerTiers    slower tiers, fastest first (already opened; closed by this stack)
     */
    TierStack(long cpuBudgetBytes, long chunkBytes, LongSupplier nanoClock, UnaryOperator<StorageTier> decorator,
              List<StorageTier> slowerTiers, KvEvents events) {
        this(cpuBudgetBytes, chunkBytes, nanoClock, decorator, slowerTiers, events, SlabRegistrar.NONE);
    }

    /** @param registrar registers the cpu tier's slabs for device copies as they are mapped */
    TierStack(long cpuBudgetBytes, long chunkBytes, LongSupplier nanoClock, UnaryOperator<StorageTier> decorator,
              List<StorageTier> slowerTiers, KvEvents events, SlabRegistrar registrar) {
        this.events = events;
        if (slowerTiers.size() > Integer.SIZE - 1) {
            throw new IllegalArgumentException("slower tiers: " + slowerTiers.size() + " (expected: at most "
                    + (Integer.SIZE - 1) + ", one copy mark each)");
        }
        List<GuardedTier> s = new ArrayList<>();
        java.util.Map<String, Integer> named = new java.util.HashMap<>();
        if (cpuBudgetBytes > 0) {
            named.put(CpuTier.NAME, 1);
        }
        for (StorageTier t : slowerTiers) {
            // two tiers of one kind (two disks, say) get names of their own: disk, disk-2; stats, events and metrics tell them apart
            int n = named.merge(t.name(), 1, Integer::sum);
            s.add(new GuardedTier(decorator.apply(t), n == 1 ? t.name() : t.name() + "-" + n));
        }
        this.slower = List.copyOf(s);
        this.lossyBelow = slower.stream().anyMatch(t -> t.tier().servesLossy());
        if (cpuBudgetBytes > 0) {
            this.cpu = new CpuTier(cpuBudgetBytes, chunkBytes, true, nanoClock, this::demote, registrar);
            cpu.yieldTo(foreground::busy);
            this.cpuGuard = new GuardedTier(decorator.apply(cpu));
            this.maxDemotionHolds = Math.max(1, cpu.capacityPages() / 4);
        } else {
            this.cpu = null;
            this.cpuGuard = null;
            this.maxDemotionHolds = 0;
        }
        this.staging = cpu == null && slower.size() > 1 && slower.getFirst().tier().servesInPlace() ? slower.getFirst() : null;
        for (int i = 0; i < slower.size(); i++) {
            GuardedTier t = slower.get(i);
            int copy = copyMark(i);
            t.tier().onEviction(key -> {
                if (cpu != null) {
                    cpu.forgetCopied(key, copy);
                }
                events.evicted(t.name(), key);
            });
            t.tier().onCorruption(key -> {
                if (cpu != null) {
                    cpu.forgetCopied(key, copy);
                }
                events.corrupt(t.name(), key);
            });
            if (cpu != null) {
                writers.add(new WriteBehind(t, WRITE_BEHIND_CHUNKS, (key, written) -> {
                    cpu.markCopied(key, copy); // before the event: whoever sees it may evict the chunk at no cost
                    if (written) {
                        events.stored(t.name(), key);
                    }
                }));
            } else if (staging != null && t != staging) {
                writers.add(new WriteBehind(t, WRITE_BEHIND_CHUNKS, (key, written) -> {
                    if (written) {
                        events.stored(t.name(), key);
                    }
                }));
            }
        }
        List<GuardedTier> everything = new ArrayList<>();
        if (cpuGuard != null) {
            everything.add(cpuGuard);
        }
        everything.addAll(slower);
        this.all = List.copyOf(everything);
    }

    /** The connector's foreground calls, which the cpu tier's prefault refills let go first. */
    ForegroundActivity foreground() {
        return foreground;
    }

    /** The cpu tier, or empty when it is off. */
    Optional<CpuTier> cpu() {
        return Optional.ofNullable(cpu);
    }

    GuardedTier cpuGuard() {
        return cpuGuard;
    }

    /** Every tier, fastest first. */
    List<GuardedTier> all() {
        return all;
    }

    /** Slower tiers, fastest first. */
    List<GuardedTier> slower() {
        return slower;
    }

    /**
     * Waits until every slower tier's open-time preparation is done ({@link GuardedTier#awaitReady}), until
     * {@code deadlineNanos} ({@link System#nanoTime}) at most.
     */
    boolean awaitSlowerReady(long deadlineNanos) {
        for (GuardedTier t : slower) {
            if (!t.awaitReady(Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    /** The fastest tier holding {@code key}. */
    Optional<GuardedTier> holding(ChunkKey key) {
        for (GuardedTier t : all) {
            if (t.contains(key)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /**
     * The fastest tier holding {@code key}, chunk {@code chunk} of a prompt; the remote tier is answered
     * by {@code remote}, which asks it about the whole rest of the prompt in one round trip.
     */
    Optional<GuardedTier> holding(ChunkKey key, int chunk, RemoteLookup remote) {
        for (GuardedTier t : all) {
            boolean found = remote.covers(t) ? remote.contains(key, chunk)
                    : remote.inPlace().covers(t) ? remote.inPlace().contains(key, chunk) : t.contains(key);
            if (found) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** Pins {@code key} in the fastest tier holding it. */
    Optional<GuardedTier> pin(ChunkKey key, Duration timeout) {
        for (GuardedTier t : all) {
            if (t.pin(key, timeout)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /**
     * A chunk held for reading and the tier it came from; {@code lossy} when its bytes came from a lossy codec (read from a
     * tier configured with one, or from the cpu tier after such a read), so they are close to, not equal to, what was
     * stored.
     */
    record TierBuffer(GuardedTier tier, ChunkBuffer buffer, boolean lossy) {
    }

    /**
     * The chunk from the fastest tier holding it, if {@code admit} lets that tier load it in time (empty
     * when it does not: the prefix must stop there). A hit in a slower tier is timed, for the tier's
     * bandwidth estimate, and promoted into the cpu tier.
     */
    Optional<TierBuffer> get(ChunkKey key, Predicate<GuardedTier> admit) {
        return get(key, 0, RemoteLookup.none(), admit);
    }

    /** {@link #get(ChunkKey, Predicate)} of chunk {@code chunk} of a prompt, the remote tier answered by {@code remote}. */
    Optional<TierBuffer> get(ChunkKey key, int chunk, RemoteLookup remote, Predicate<GuardedTier> admit) {
        for (GuardedTier t : all) {
            if (t == cpuGuard) {
                // One index lookup for the hot case: get is the presence check (a miss is empty).
                Optional<ChunkBuffer> held = t.get(key);
                if (held.isEmpty()) {
                    continue;
                }
                if (!admit.test(t)) {
                    held.get().close();
                    return Optional.empty();
                }
                return Optional.of(new TierBuffer(t, held.get(), lossyBelow && cpu.isLossy(key)));
            }
            if (t.tier().servesInPlace() && !remote.covers(t)) {
                // As for the cpu tier, get is the presence check; the hit is copied from where it is: no promotion
                long start = System.nanoTime();
                Optional<ChunkBuffer> b = remote.inPlace().covers(t) ? remote.inPlace().get(key, chunk) : t.get(key);
                if (b.isEmpty()) {
                    continue;
                }
                if (!admit.test(t)) {
                    b.get().close();
                    return Optional.empty();
                }
                t.recordLoad(b.get().sizeBytes(), System.nanoTime() - start);
                return Optional.of(new TierBuffer(t, b.get(), t.tier().servesLossy()));
            }
            if (!(remote.covers(t) ? remote.contains(key, chunk) : t.contains(key))) {
                continue;
            }
            if (!admit.test(t)) {
                return Optional.empty();
            }
            Optional<RemoteLookup.Taken> taken = remote.takeReadAhead(key); // read ahead by this tier or another
            GuardedTier from = taken.isPresent() ? taken.get().tier() : t;
            Optional<RemoteReadAhead> ahead = remote.readAhead(t);
            Promotion promoted = taken.isPresent() ? commitPromotion(from, key, taken.get().page().page(), taken.get().page().bytes())
                    : ahead.isPresent() ? readAheadIntoCpu(t, key, chunk, remote, ahead.get()) : readIntoCpu(t, key);
            if (promoted.read()) {
                if (promoted.chunk().isPresent()) {
                    return Optional.of(new TierBuffer(from, promoted.chunk().get(), from.tier().servesLossy()));
                }
                continue; // a miss (evicted or removed since contains) or a failure: one attempt only
            }
            long start = System.nanoTime();
            Optional<ChunkBuffer> b = t.get(key);
            if (b.isEmpty()) {
                continue; // evicted or removed since contains
            }
            t.recordLoad(b.get().sizeBytes(), System.nanoTime() - start);
            boolean lossy = t.tier().servesLossy(); // promoted only through a page committed as lossy (readIntoCpu)
            if (!lossy && cpuGuard != null && cpuGuard.put(key, b.get().segment())) {
                cpu.markCopied(key, copyMark(t));
                promotions.increment();
                events.stored(cpuGuard.name(), key);
            }
            return Optional.of(new TierBuffer(t, b.get(), lossy));
        }
        return Optional.empty();
    }

    /**
     * What {@link #readIntoCpu} did: {@code read} is false when it could not try (no cpu tier, no free
     * page; the caller may read the chunk another way), and then {@code chunk} is empty; when true, the
     * chunk is the promoted one, or empty on a miss or a failure of the slower tier (not to be tried again).
     */
    private record Promotion(boolean read, Optional<ChunkBuffer> chunk) {

        static final Promotion NOT_TRIED = new Promotion(false, Optional.empty());
        static final Promotion NOT_FOUND = new Promotion(true, Optional.empty());
    }

    /**
     * Promotes {@code key} from slower tier {@code t} by reading it straight into a reserved cpu page (no
     * buffer of the slower tier's, no second copy), and returns the cpu tier's hold on it. Not tried when
     * there is no cpu tier or no free page (the caller falls back to a plain read); not found when the
     * chunk cannot be read (a miss, or a failure counted by the guard).
     */
    private Promotion readIntoCpu(GuardedTier t, ChunkKey key) {
        return readIntoCpu(t, key, java.util.Set.of());
    }

    /** {@link #readIntoCpu(GuardedTier, ChunkKey)} into a page whose reservation evicts none of {@code keep}. */
    private Promotion readIntoCpu(GuardedTier t, ChunkKey key, java.util.Set<ChunkKey> keep) {
        Optional<ChunkPage> page = reservePage(keep);
        if (page.isEmpty()) {
            return Promotion.NOT_TRIED;
        }
        ChunkPage p = page.get();
        boolean handedOver = false;
        try {
            long start = System.nanoTime();
            long n = t.readInto(key, p.memory());
            if (n < 0) {
                return Promotion.NOT_FOUND;
            }
            t.recordLoad(n, System.nanoTime() - start);
            handedOver = true;
            return commitPromotion(t, key, p, n);
        } finally {
            if (!handedOver) {
                p.release();
            }
        }
    }

    /**
     * {@link #readIntoCpu} on a walk that reads ahead, for a chunk no read-ahead of the call holds
     * ({@link RemoteLookup#takeReadAhead} is asked first): {@code key} and the next chunks of the prompt {@code t} holds
     * that neither read-ahead holds (up to the batch size, as
     * many as pages can be reserved) are read in one call ({@link GuardedTier#readAllInto}), the first
     * committed and the others held in {@code ahead} for the walk. A miss or failure of the first releases
     * every page; pages after a chunk that missed are released too (the walk stops there).
     */
    private Promotion readAheadIntoCpu(GuardedTier t, ChunkKey key, int chunk, RemoteLookup remote, RemoteReadAhead ahead) {
        List<ChunkKey> keys = new ArrayList<>(ahead.chunks());
        keys.add(key);
        for (ChunkKey next : remote.heldAfter(t, chunk, ahead.chunks() - 1)) {
            if (!remote.readAheadHolds(next) && !cpuGuard.contains(next)) { // what either read-ahead holds is not read again
                keys.add(next);
            }
        }
        if (keys.size() == 1) {
            return readIntoCpu(t, key);
        }
        List<ChunkPage> pages = new ArrayList<>(keys.size());
        try {
            for (int i = 0; i < keys.size(); i++) {
                Optional<ChunkPage> p = reservePage(java.util.Set.of());
                if (p.isEmpty()) {
                    break; // read fewer ahead
                }
                pages.add(p.get());
            }
            if (pages.isEmpty()) {
                return Promotion.NOT_TRIED;
            }
            List<ChunkKey> batch = keys.subList(0, pages.size());
            // Not recorded as the tier's load time: a batch has several chunks in flight, and the one reader of that
            // estimate, a lookup or retrieve with a limit, reads one chunk at a time (it never reads ahead).
            long[] n = t.readAllInto(batch, pages.stream().map(ChunkPage::memory).toList());
            if (n[0] < 0) {
                return Promotion.NOT_FOUND; // the pages are released below
            }
            for (int i = 1; i < n.length && n[i] >= 0; i++) {
                ahead.hold(batch.get(i), pages.get(i), n[i]);
                pages.set(i, null); // handed over
            }
            ChunkPage first = pages.getFirst();
            pages.set(0, null);
            return commitPromotion(t, key, first, n[0]);
        } finally {
            for (ChunkPage p : pages) {
                if (p != null) {
                    p.release();
                }
            }
        }
    }

    /**
     * A page of the cpu tier for a promotion, evicting none of {@code keep}; empty when there is no cpu tier or no page
     * (reserving failed: counted).
     */
    private Optional<ChunkPage> reservePage(java.util.Set<ChunkKey> keep) {
        if (cpu == null) {
            return Optional.empty();
        }
        try {
            return cpu.reserve(cpu.pageBytes(), keep);
        } catch (RuntimeException | OutOfMemoryError e) {
            return cpuGuard.failed("reserve", e, Optional.empty());
        }
    }

    /**
     * Commits page {@code p} (its allocation's reference handed over), holding {@code n} bytes of {@code key}
     * read from {@code t}, to the cpu tier, and returns the hold on it the caller reads.
     */
    private Promotion commitPromotion(GuardedTier t, ChunkKey key, ChunkPage p, long n) {
        boolean pageHeld = true;   // the allocation's reference, until commit takes it over
        boolean readerHeld = false; // a second reference, for the buffer returned to the caller
        try {
            readerHeld = p.retain(); // before commit: once published, the chunk could be evicted at once
            boolean committed = cpu.commit(key, p, n, copyMark(t), t.tier().servesLossy());
            pageHeld = false; // commit took the allocation's reference over, or released it
            if (committed) {
                promotions.increment();
                events.stored(cpuGuard.name(), key);
                readerHeld = false;
                return new Promotion(true, Optional.of(new HeldChunkBuffer(key, p.memory().asSlice(0, n), p::release)));
            }
            // another thread promoted it first; ours was released by commit (and if theirs is gone again, read it anew)
            Optional<ChunkBuffer> theirs = cpuGuard.get(key);
            return theirs.isPresent() ? new Promotion(true, theirs) : Promotion.NOT_TRIED;
        } finally {
            if (pageHeld) {
                p.release();
            }
            if (readerHeld) {
                p.release();
            }
        }
    }

    /**
     * Loads {@code key} into the cpu tier if a slower tier has it, evicting none of {@code keep} (the chunks a prefetch
     * placed before it: evicting them would shorten the prefix it reports); true when the cpu tier now holds it (then also
     * marked as just used).
     */
    boolean promote(ChunkKey key, java.util.Set<ChunkKey> keep) {
        if (cpuGuard == null) {
            return false;
        }
        if (cpuGuard.contains(key)) {
            cpu.touch(key);
            return true;
        }
        for (GuardedTier t : slower) {
            Promotion promoted = readIntoCpu(t, key, keep);
            if (promoted.read()) {
                if (promoted.chunk().isPresent()) {
                    promoted.chunk().get().close();
                    return true;
                }
                continue; // a miss or a failure here: one attempt, then the next tier
            }
            if (!keep.isEmpty()) {
                return false; // no page without evicting a kept chunk: a put would evict one
            }
            if (t.tier().servesLossy()) {
                continue; // no free page: a lossy chunk is promoted only through one, committed as lossy
            }
            long start = System.nanoTime();
            Optional<ChunkBuffer> b = t.get(key);
            if (b.isPresent()) {
                t.recordLoad(b.get().sizeBytes(), System.nanoTime() - start);
                try (ChunkBuffer chunk = b.get()) {
                    boolean placed = cpuGuard.put(key, chunk.segment());
                    if (placed) {
                        cpu.markCopied(key, copyMark(t));
                        promotions.increment();
                        events.stored(cpuGuard.name(), key);
                    }
                    return placed;
                } catch (RuntimeException e) {
                    return t.failed("read", e, false);
                }
            }
        }
        return false;
    }

    /** After a chunk was committed to the cpu tier: queue it for each slower tier. */
    void writeBehind(ChunkKey key) {
        for (WriteBehind w : writers) {
            cpuGuard.get(key).ifPresent(w::offer);
        }
    }

    /**
     * Stores a chunk straight into the slower tiers (when the cpu tier is off); true when at least one of
     * them took it (false when every one refused it: full, or failing); each tier that took it is told to
     * event listeners as a store of tokens {@code [startToken, endToken)} behind {@code parent}. With a
     * {@link #staging} tier that takes it, only that one is written here and the others behind.
     */
    boolean putSlower(ChunkKey key, MemorySegment chunk, ChunkKey parent, int startToken, int endToken) {
        if (staging != null && staging.put(key, chunk)) {
            events.stored(staging.name(), key, parent, startToken, endToken);
            for (WriteBehind w : writers) { // the tiers under it, each from a hold of the staged chunk
                Optional<ChunkBuffer> held = staging.get(key);
                if (held.isEmpty()) {
                    break; // evicted from it already: the store stands there, the tiers under it do without
                }
                w.offer(held.get());
            }
            return true;
        }
        boolean taken = false;
        for (GuardedTier t : slower) {
            if (t.put(key, chunk)) {
                taken = true;
                events.stored(t.name(), key, parent, startToken, endToken);
            }
        }
        return taken;
    }

    /**
     * The cpu tier evicted {@code key}: queue it for each slower tier not marked as holding it (whose writer
     * puts it unless that tier holds it by then). Runs on the evicting thread, so it never waits: a full
     * queue drops the demotion, and the page is freed once no queue holds it.
     */
    private void demote(ChunkKey key, int copies, Supplier<ChunkBuffer> hold) {
        events.evicted(CpuTier.NAME, key);
        for (int i = 0; i < writers.size(); i++) {
            if ((copies & copyMark(i)) == 0) {
                if (demotionHolds.incrementAndGet() > maxDemotionHolds) {
                    demotionHolds.decrementAndGet();
                    demotionsDropped.increment(); // the budget is for chunks that serve hits, not a backlog
                    continue;
                }
                ChunkBuffer held = hold.get();
                writers.get(i).demote(new HeldChunkBuffer(key, held.segment(), () -> {
                    held.close();
                    demotionHolds.decrementAndGet();
                }));
            }
        }
    }

    /** The copy mark of slower tier {@code i}. */
    private static int copyMark(int i) {
        return 1 << i;
    }

    /** The copy mark of slower tier {@code t}. */
    private int copyMark(GuardedTier t) {
        return copyMark(slower.indexOf(t));
    }

    /** A retrieve served a {@link TierBuffer#lossy} chunk from {@code t}: the cpu tier counts it (slower tiers count their reads). */
    void servedLossy(GuardedTier t) {
        if (t == cpuGuard) {
            cpu.countLossyServed();
        }
    }

    /** Chunks waiting to be written behind, over all slower tiers. */
    long writeBehindQueued() {
        return writers.stream().mapToLong(WriteBehind::depth).sum();
    }

    long promotions() {
        return promotions.sum();
    }

    /** Evicted chunks a slower tier stored (counted when it did, after the eviction). */
    long demotions() {
        return writers.stream().mapToLong(WriteBehind::demoted).sum();
    }

    /** Pages held now by demotions waiting for a slower tier (at most a quarter of the cpu tier's pages). */
    int demotionHolds() {
        return demotionHolds.get();
    }

    long writeBehindDropped() {
        return writers.stream().mapToLong(WriteBehind::dropped).sum() + demotionsDropped.sum();
    }

    long evictions() {
        return cpu == null ? 0 : cpu.evictions();
    }

    List<TierStats> stats() {
        return all.stream().map(GuardedTier::stats).toList();
    }

    /** Removes every chunk from every tier, after dropping writes still queued for the slower ones. */
    void clear() {
        writers.forEach(WriteBehind::discardPending);
        all.forEach(GuardedTier::clear);
        events.cleared();
    }

    /** Drains write-behind, then closes every tier. */
    @Override
    public void close() {
        writers.forEach(WriteBehind::close);
        all.forEach(GuardedTier::close);
    }
}
