package org.lmcache4j.storage.cpu;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.tier.HeldChunkBuffer;
import org.lmcache4j.storage.tier.NestedPins;

/**
 * The {@code cpu} tier: chunks in fixed pages of pinned off-heap memory with a hard byte budget and
 * least-recently-used eviction that never drops a pinned chunk or one a reader holds.
 *
 * <p>Implementation notes. The index is an access-ordered {@link LinkedHashMap} under one lock; only
 * index updates happen under it, never copies. Pages are reference counted ({@link ChunkPage}): the
 * index holds one reference, each open {@link ChunkBuffer} another, so eviction or removal of a chunk
 * being read only unlinks it, and its page is freed when the last reader closes. Caffeine was not used
 * because its size-based eviction is amortised (the budget may be passed until maintenance runs) and
 * cannot skip entries in use; here the budget is the page count of the allocator, which cannot be
 * exceeded. Writers either {@link #put} a copy or {@link #reserve} a page, fill it in place and
 * {@link #commit} it (the zero-copy store path).
 *
 * <p>Each chunk carries copy marks, bits its owner (the tier stack) sets for the slower tiers known to
 * hold a copy; they are handed to the {@link EvictionListener} with the evicted chunk, which may keep the
 * page (a hold) while it demotes the chunk. Such a page still counts against the budget: the eviction then
 * frees nothing, and {@link #reserve} evicts the next chunk, at most as many as the tier holds.
 *
 * <p>A chunk committed as lossy (promoted from a tier whose codec is lossy, such as int8) is never handed to the
 * listener as missing from a slower tier (its copy marks are then all set, {@link #ALL_COPIES}): its bytes differ from
 * the engine's, and in another tier they would pass for exact KV. The tier stack counts each time one is served
 * ({@link #countLossyServed}, {@link TierStats#lossyChunksServed}).
 */
public final class CpuTier implements StorageTier {

    public static final String NAME = "cpu";

    /** The copy marks an evicted lossy chunk is handed over with: as if every slower tier held it. */
    public static final int ALL_COPIES = -1;

    private final PinnedSlabAllocator allocator;
    private final long budgetBytes;
    private final LongSupplier nanoClock;
    private final EvictionListener evictionListener;
    private final LinkedHashMap<ChunkKey, Entry> index = new LinkedHashMap<>(256, 0.75f, true);
    // Copy marks of indexed chunks (absent = none), beside the index so that marking is not a use of the chunk.
    private final HashMap<ChunkKey, Integer> copies = new HashMap<>();
    // Indexed chunks committed as lossy, beside the index for the same reason.
    private final HashSet<ChunkKey> lossy = new HashSet<>();
    private final LongAdder lossyServed = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private volatile boolean closed;

    /**
     * @param budgetBytes hard limit on the tier's memory
     * @param chunkBytes  the largest chunk it must hold (one page)
     * @param pin         lock the memory in RAM (best effort)
     * @param nanoClock   time source for pin expiry ({@code System::nanoTime} outside tests)
     */
    public CpuTier(long budgetBytes, long chunkBytes, boolean pin, LongSupplier nanoClock, EvictionListener evictionListener) {
        this(budgetBytes, chunkBytes, pin, nanoClock, evictionListener, SlabRegistrar.NONE);
    }

    /** @param registrar registers each slab of the tier for device copies as it is mapped */
    public CpuTier(long budgetBytes, long chunkBytes, boolean pin, LongSupplier nanoClock, EvictionListener evictionListener,
                   SlabRegistrar registrar) {
        this.allocator = new PinnedSlabAllocator(budgetBytes, chunkBytes, pin, PinnedSlabAllocator.MAX_SLAB_BYTES,
                PinnedSlabAllocator.DEFAULT_READY_AHEAD_BYTES, PinnedSlabAllocator.RETRY_UNMAP_FOR, registrar);
        this.budgetBytes = budgetBytes;
        this.nanoClock = nanoClock;
        this.evictionListener = evictionListener;
    }

    public CpuTier(long budgetBytes, long chunkBytes) {
        this(budgetBytes, chunkBytes, true, System::nanoTime, EvictionListener.NONE);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean contains(ChunkKey key) {
        synchronized (index) {
            ensureOpen();
            return index.containsKey(key);
        }
    }

    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        synchronized (index) {
            ensureOpen();
            Entry e = index.get(key);
            if (e == null || !e.page.retain()) {
                return Optional.empty();
            }
            return Optional.of(new HeldChunkBuffer(key, e.page.memory().asSlice(0, e.bytes), e.page::release));
        }
    }

    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        if (contains(key)) {
            return true;
        }
        Optional<ChunkPage> page = reserve(payload.byteSize(), Set.of());
        if (page.isEmpty()) {
            return false;
        }
        try {
            MemorySegment.copy(payload, 0, page.get().memory(), 0, payload.byteSize());
        } catch (Throwable t) {
            page.get().release();
            throw t;
        }
        commit(key, page.get(), payload.byteSize());
        return true;
    }

    /**
     * A free page for a chunk of {@code bytes}, evicting least recently used chunks as needed, except
     * those in {@code keep} (a store keeps its own earlier chunks: evicting them would break the prefix
     * it is writing); empty when every chunk in the way is pinned, being read or kept.
     *
     * @throws IllegalArgumentException when {@code bytes} does not fit in one page
     */
    public Optional<ChunkPage> reserve(long bytes, Set<ChunkKey> keep) {
        if (bytes < 0 || bytes > allocator.pageBytes()) {
            throw new IllegalArgumentException("chunk of " + bytes + " bytes (expected: 0 to " + allocator.pageBytes()
                    + ", the cpu tier's page size)");
        }
        // Bounded: an eviction whose page a demotion holds frees nothing, and concurrent stores may take what it frees.
        for (int evicted = 0; ; evicted++) {
            ensureOpen();
            Optional<ChunkPage> page = allocator.tryAllocate();
            if (page.isPresent() || evicted >= allocator.capacityPages() || !evictOne(keep)) {
                return page;
            }
        }
    }

    /**
     * Publishes a page filled by the caller under {@code key}, taking over its reference. When the key is
     * already stored (another writer won), the page is released, the stored chunk stays, and the result
     * is false.
     */
    public boolean commit(ChunkKey key, ChunkPage page, long bytes) {
        return commit(key, page, bytes, 0);
    }

    /** {@link #commit(ChunkKey, ChunkPage, long)} with copy marks (a chunk read from a slower tier is there). */
    public boolean commit(ChunkKey key, ChunkPage page, long bytes, int copyMarks) {
        return commit(key, page, bytes, copyMarks, false);
    }

    /**
     * {@link #commit(ChunkKey, ChunkPage, long, int)}, and {@code lossyChunk} true for a chunk read from a tier whose
     * codec is lossy: it is then never demoted ({@link #ALL_COPIES}) and {@link #isLossy} says so.
     */
    public boolean commit(ChunkKey key, ChunkPage page, long bytes, int copyMarks, boolean lossyChunk) {
        synchronized (index) {
            if (!closed && !index.containsKey(key)) {
                index.put(key, new Entry(page, bytes));
                if (copyMarks != 0) {
                    copies.put(key, copyMarks);
                }
                if (lossyChunk) {
                    lossy.add(key);
                }
                return true;
            }
        }
        page.release();
        return false;
    }

    /** Adds copy marks to a stored chunk (a slower tier now holds it); no effect when absent, and not a use. */
    public void markCopied(ChunkKey key, int copyMarks) {
        synchronized (index) {
            if (!closed && index.containsKey(key)) {
                copies.merge(key, copyMarks, (a, b) -> a | b);
            }
        }
    }

    /** Removes copy marks from a stored chunk (a slower tier dropped it); no effect when absent. */
    public void forgetCopied(ChunkKey key, int copyMarks) {
        synchronized (index) {
            copies.computeIfPresent(key, (k, marks) -> (marks & ~copyMarks) == 0 ? null : marks & ~copyMarks);
        }
    }

    /** True when {@code key} is stored and was committed as lossy; not a use. */
    public boolean isLossy(ChunkKey key) {
        synchronized (index) {
            return lossy.contains(key);
        }
    }

    /** Counts one lossy chunk served to an engine ({@link TierStats#lossyChunksServed}). */
    public void countLossyServed() {
        lossyServed.increment();
    }

    /** Marks a stored chunk as just used (for eviction order); no effect when absent. */
    public void touch(ChunkKey key) {
        synchronized (index) {
            ensureOpen();
            index.get(key);
        }
    }

    @Override
    public boolean remove(ChunkKey key) {
        Entry e;
        synchronized (index) {
            ensureOpen();
            e = index.remove(key);
            copies.remove(key);
            lossy.remove(key);
        }
        if (e == null) {
            return false;
        }
        e.page.release();
        return true;
    }

    @Override
    public boolean pin(ChunkKey key, Duration timeout) {
        long until = nanoClock.getAsLong() + timeout.toNanos();
        synchronized (index) {
            ensureOpen();
            Entry e = index.get(key);
            if (e == null) {
                return false;
            }
            e.pins.pin(nanoClock.getAsLong(), until);
            return true;
        }
    }

    @Override
    public void unpin(ChunkKey key) {
        synchronized (index) {
            ensureOpen();
            Entry e = index.get(key);
            if (e != null) {
                e.pins.unpin();
            }
        }
    }

    @Override
    public void clear() {
        LinkedHashMap<ChunkKey, Entry> removed;
        synchronized (index) {
            ensureOpen();
            removed = new LinkedHashMap<>(index);
            index.clear();
            copies.clear();
            lossy.clear();
        }
        removed.values().forEach(e -> e.page.release());
    }

    @Override
    public TierStats stats() {
        long chunks;
        synchronized (index) {
            chunks = index.size();
        }
        return new TierStats(NAME, chunks, usedBytes(), budgetBytes, 0, !closed, lossyServed.sum());
    }

    /** Bytes of the pages held now, by the index or by readers of evicted chunks. */
    long usedBytes() {
        return (long) allocator.outstandingPages() * allocator.pageBytes();
    }

    /** Pages held now; 0 after {@link #clear()} once every reader has closed its buffer. */
    public int outstandingPages() {
        return allocator.outstandingPages();
    }

    /** Waits, at most {@code timeoutNanos}, for the pages made resident at open (see {@link PinnedSlabAllocator}). */
    public boolean awaitReady(long timeoutNanos) {
        return allocator.awaitFirstFill(timeoutNanos);
    }

    /** Bytes of slab memory mapped now; 0 once closed and every slab could be unmapped. */
    public long mappedBytes() {
        return allocator.mappedBytes();
    }

    /** Lets the tier's background memory work wait while {@code busy} says an engine call runs. */
    public void yieldTo(java.util.function.BooleanSupplier busy) {
        allocator.yieldTo(busy);
    }

    /** Most pages the budget allows: the most chunks the tier can hold. */
    public int capacityPages() {
        return allocator.capacityPages();
    }

    /** Bytes of one page: what one chunk costs against the budget. */
    public long pageBytes() {
        return allocator.pageBytes();
    }

    /** Chunks evicted so far to make room. */
    public long evictions() {
        return evictions.sum();
    }

    /** Frees every page and unmaps the memory; a later call retries memory that was in use (see the allocator's close). */
    @Override
    public void close() {
        synchronized (index) {
            if (!closed) {
                closed = true;
                index.values().forEach(e -> e.page.release());
                index.clear();
                copies.clear();
                lossy.clear();
            }
        }
        allocator.close();
    }

    /**
     * Unlinks the least recently used chunk that is not pinned, read or kept and tells the listener; false
     * if none. Its page is freed unless the listener took a hold on it.
     */
    private boolean evictOne(Set<ChunkKey> keep) {
        ChunkKey key = null;
        Entry victim = null;
        int copyMarks = 0;
        synchronized (index) {
            long now = nanoClock.getAsLong();
            for (Iterator<java.util.Map.Entry<ChunkKey, Entry>> it = index.entrySet().iterator(); it.hasNext(); ) {
                var candidate = it.next();
                Entry e = candidate.getValue();
                if (!e.pinned(now) && e.page.references() == 1 && !keep.contains(candidate.getKey())) {
                    key = candidate.getKey();
                    victim = e;
                    it.remove();
                    Integer marks = copies.remove(key);
                    copyMarks = lossy.remove(key) ? ALL_COPIES : marks == null ? 0 : marks;
                    break;
                }
            }
        }
        if (victim == null) {
            return false;
        }
        evictions.increment();
        ChunkKey evictedKey = key;
        Entry evicted = victim;
        try {
            evictionListener.evicted(key, copyMarks, () -> evicted.hold(evictedKey));
        } finally {
            victim.page.release();
        }
        return true;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("cpu tier closed");
        }
    }

    /** A stored chunk: its page (one reference held by the index), length and pins. */
    private static final class Entry {
        final ChunkPage page;
        final long bytes;
        final NestedPins pins = new NestedPins();

        Entry(ChunkPage page, long bytes) {
            this.page = page;
            this.bytes = bytes;
        }

        boolean pinned(long now) {
            return pins.pinned(now);
        }

        /** A new hold on the bytes; only while a reference is known to be held (the page cannot be free). */
        ChunkBuffer hold(ChunkKey key) {
            if (!page.retain()) {
                throw new IllegalStateException("chunk " + key + ": its page is already free (expected: a held page)");
            }
            return new HeldChunkBuffer(key, page.memory().asSlice(0, bytes), page::release);
        }
    }
}
