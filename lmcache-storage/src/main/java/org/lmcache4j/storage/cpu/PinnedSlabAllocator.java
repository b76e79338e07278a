package org.lmcache4j.storage.cpu;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.lmcache4j.nativeio.Libc;
import org.lmcache4j.api.spi.HostRegistration;
import org.lmcache4j.nativeio.OffHeapSlab;
import org.lmcache4j.nativeio.Prefaulter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands out fixed-size chunk pages carved from off-heap slabs whose memory is already resident (faulted
 * in, and pinned where the limits allow), so that neither a store nor a promotion on the hit path pays a
 * page fault. Fixed pages cannot fragment; the byte budget is a hard limit: at most
 * {@code floor(budgetBytes / pageBytes)} pages exist. Thread-safe. {@link #close()} never throws and
 * never leaves memory mapped for good (see there).
 *
 * <p>Implementation notes. The first touch of anonymous memory is a page fault that costs far more than
 * the copy into it (docs/PERFORMANCE.md, "cpu tier memory"), and {@code mlock}, which would fault a slab
 * in at once, is refused beyond {@code ulimit -l} to users without {@code CAP_IPC_LOCK}. So a background
 * thread ({@value #PREFAULT_THREAD}) keeps {@code readyAheadBytes} of free pages resident ahead of demand
 * (default {@value #DEFAULT_READY_AHEAD_BYTES} bytes, at most the budget): it maps the next slab (at most
 * {@value #MAX_SLAB_BYTES} bytes, advised for huge pages before any fault) when no mapped page is left,
 * and faults mapped pages in steps of at most {@value #FAULT_STEP_BYTES} bytes with {@link Prefaulter}
 * ({@code mlock} when pinning is allowed, else {@code MADV_POPULATE_WRITE}, else a write per page), then
 * has the kernel write each page once ({@link Prefaulter#writeOnceByKernel}: on these virtual machines the
 * kernel's first write to a 4 KiB page, as a disk-tier read into it, is as slow as a fault, where huge
 * pages are not granted). It
 * sleeps while that many free pages are ready or the whole budget is resident; it refills only once
 * takers have been quiet for {@value #QUIET_NANOS} ns (unless under a quarter of the target is left),
 * since a store or promotion is often followed at once by a hit whose copies faulting would slow down.
 * Its first fill, at open, runs at normal priority: at nice {@value #BACKGROUND_NICE} it starved while the
 * engine warmed up on all its threads, and the first hit then found nothing ready and competed with the
 * fill. Refills run at nice {@value #BACKGROUND_NICE}, on cores the engine leaves idle: a busy engine
 * that stores as fast as they refill gets, at worst, the faults back on its own threads.
 *
 * <p>Why a bounded amount ahead rather than the whole budget at open: resident memory beyond the pages in
 * use stays bounded by {@code readyAheadBytes}, and faulting a budget of many GiB would cost seconds of a
 * core at open, competing with the engine's own start, for memory nobody may use; the default covers a
 * 4,096-token prompt of Llama-3.1-8B (512 MiB) promoted at once. A burst larger than the pages ready is
 * served too: its takers fault their own pages, as before this thread existed.
 *
 * <p>Neither mapping nor faulting happens under the allocator's lock: a range is claimed under it,
 * mapped or faulted outside, and published under it again. A caller that finds no ready page takes a
 * mapped page not yet faulted and faults it itself (counted in {@link #demandFaultedPages()}), so it waits
 * for its own page at most, never for a slab. Freed pages return to the ready list (LIFO: the hottest page
 * is reused first); slabs are unmapped only by {@link #close()}, which stops the background thread
 * between two steps.
 *
 * <p>This class is larger than most: the page lists, the counts of pages claimed in flight, the
 * background thread and close (with its unmap retries) share one lock and one set of invariants (every
 * page is ready, cold, in flight or handed out; mapped pages never pass the budget), which is easier to
 * check in one place.
 */
final class PinnedSlabAllocator implements AutoCloseable {

    /** Largest slab mapped at once; a budget of many GiB is mapped in steps of this size. */
    static final long MAX_SLAB_BYTES = 256L << 20;
    /** Free pages kept resident ahead of demand by default (at most the budget). */
    static final long DEFAULT_READY_AHEAD_BYTES = 512L << 20;
    /** Largest range the background thread faults in one step (one page at least). */
    static final long FAULT_STEP_BYTES = 16L << 20;
    /** Name of the background thread that keeps pages resident ahead of demand. */
    static final String PREFAULT_THREAD = "lmcache-cpu-prefault";
    /**
     * How long the background thread lets takers be quiet before it refills the ready pages (unless fewer
     * than a quarter of them are left): a store or promotion is often followed by a hit's copies, and
     * faulting competes with them for cores and memory bandwidth.
     */
    static final long QUIET_NANOS = 200_000_000L;
    /** How often a refill waiting for a foreground call looks again. */
    private static final long FOREGROUND_POLL_NANOS = 1_000_000L;
    /** True while an engine call (a store or retrieve) runs: refills wait for it, unless the ready pages run low. */
    private volatile java.util.function.BooleanSupplier foregroundBusy = () -> false;
    /** Nice value of the background thread: the lowest priority. */
    static final int BACKGROUND_NICE = 19;
    /** How long {@link #close()} waits for the background thread to finish its step (one step takes tens of ms). */
    static final long PREFAULT_JOIN_MILLIS = 2_000;
    /** How long slabs a close could not unmap are retried in the background. */
    static final Duration RETRY_UNMAP_FOR = Duration.ofSeconds(60);
    /** Pause between background retries of slabs a close could not unmap. */
    static final long RETRY_INTERVAL_MILLIS = 100;

    private static final Logger LOG = LoggerFactory.getLogger(PinnedSlabAllocator.class);

    private final long pageBytes;
    private final int capacityPages;
    private final int pagesPerSlab;
    private final int readyAheadPages;
    private final boolean pin;
    private final Duration retryUnmapFor;
    private final Prefaulter prefaulter = Prefaulter.instance();
    private final Thread prefaultThread;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Set once by the background thread when its first fill is done ({@link #awaitFirstFill}). */
    private boolean firstFillDone;
    private final List<OffHeapSlab> slabs = new ArrayList<>();
    private final Map<OffHeapSlab, HostRegistration> registrations = new IdentityHashMap<>(); // guarded by lock
    private final SlabRegistrar registrar;
    private boolean registrationFailed; // guarded by lock: logged once
    /** Free pages whose memory is resident. */
    private final ArrayDeque<ChunkPage> ready = new ArrayDeque<>();
    /** Mapped pages never handed out nor faulted, in address order. */
    private final ArrayDeque<ColdPage> cold = new ArrayDeque<>();
    private int carvedPages; // mapped, or being mapped
    private int inFlightPages; // being mapped or faulted outside the lock; they join cold or ready
    private int outstandingPages;
    private long demandFaultedPages;
    private long lastTakeNanos = System.nanoTime() - QUIET_NANOS;
    private boolean closed;

    /**
     * @param budgetBytes hard limit on the bytes of all slabs
     * @param chunkBytes  largest chunk a page must hold; pages are this rounded up to 64 bytes
     *                    (4 KiB from 4 KiB on), so pages stay aligned for wide copies
     * @param pin         lock slabs in RAM (best effort)
     */
    PinnedSlabAllocator(long budgetBytes, long chunkBytes, boolean pin) {
        this(budgetBytes, chunkBytes, pin, MAX_SLAB_BYTES, DEFAULT_READY_AHEAD_BYTES, RETRY_UNMAP_FOR);
    }

    /**
     * @param maxSlabBytes   largest slab mapped at once (tests map several small slabs)
     * @param retryUnmapFor  how long a background thread keeps retrying slabs a {@link #close()} could not unmap
     */
    PinnedSlabAllocator(long budgetBytes, long chunkBytes, boolean pin, long maxSlabBytes, Duration retryUnmapFor) {
        this(budgetBytes, chunkBytes, pin, maxSlabBytes, DEFAULT_READY_AHEAD_BYTES, retryUnmapFor);
    }

    /**
     * @param readyAheadBytes free bytes kept resident ahead of demand by a background thread (0: none, every
     *                        page is faulted by the caller that takes it first)
     */
    PinnedSlabAllocator(long budgetBytes, long chunkBytes, boolean pin, long maxSlabBytes, long readyAheadBytes,
            Duration retryUnmapFor) {
        this(budgetBytes, chunkBytes, pin, maxSlabBytes, readyAheadBytes, retryUnmapFor, SlabRegistrar.NONE);
    }

    /** @param registrar registers each slab as it is mapped, for device copies ({@link SlabRegistrar#NONE}: none) */
    PinnedSlabAllocator(long budgetBytes, long chunkBytes, boolean pin, long maxSlabBytes, long readyAheadBytes,
            Duration retryUnmapFor, SlabRegistrar registrar) {
        if (chunkBytes <= 0) {
            throw new IllegalArgumentException("chunk bytes: " + chunkBytes + " (expected: > 0)");
        }
        if (readyAheadBytes < 0) {
            throw new IllegalArgumentException("ready-ahead bytes: " + readyAheadBytes + " (expected: >= 0)");
        }
        long align = chunkBytes >= OffHeapSlab.PAGE_BYTES ? OffHeapSlab.PAGE_BYTES : 64;
        this.pageBytes = Math.ceilDiv(chunkBytes, align) * align;
        long pages = budgetBytes / pageBytes;
        if (pages < 1) {
            throw new IllegalArgumentException("cpu budget: " + budgetBytes + " bytes (expected: at least one chunk page of "
                    + pageBytes + " bytes)");
        }
        this.capacityPages = (int) Math.min(Integer.MAX_VALUE, pages);
        this.pagesPerSlab = (int) Math.max(1, Math.min(capacityPages, maxSlabBytes / pageBytes));
        this.readyAheadPages = (int) Math.min(capacityPages, Math.ceilDiv(readyAheadBytes, pageBytes));
        this.pin = pin;
        this.retryUnmapFor = retryUnmapFor;
        this.registrar = registrar;
        // Started last: it reads the fields above.
        this.prefaultThread = readyAheadPages == 0 ? null
                : Thread.ofPlatform().daemon().name(PREFAULT_THREAD).start(this::prefaultAhead);
    }

    /** Bytes of one page. */
    long pageBytes() {
        return pageBytes;
    }

    /** Most pages that can exist. */
    int capacityPages() {
        return capacityPages;
    }

    /** Free pages kept resident ahead of demand (the background thread's target). */
    int readyAheadPages() {
        return readyAheadPages;
    }

    /** Pages handed out and not yet freed (held by the index or by readers). */
    int outstandingPages() {
        lock.lock();
        try {
            return outstandingPages;
        } finally {
            lock.unlock();
        }
    }

    /** Free pages resident now, ready to be handed out without a fault. */
    int readyPages() {
        lock.lock();
        try {
            return ready.size();
        } finally {
            lock.unlock();
        }
    }

    /** Pages handed out before the background thread had faulted them in: their taker faulted them. */
    long demandFaultedPages() {
        lock.lock();
        try {
            return demandFaultedPages;
        } finally {
            lock.unlock();
        }
    }

    /** True while the background thread runs (until close). */
    boolean prefaulting() {
        return prefaultThread != null && prefaultThread.isAlive();
    }

    /** Bytes of slab memory mapped now. */
    long mappedBytes() {
        lock.lock();
        try {
            return mappedBytesLocked();
        } finally {
            lock.unlock();
        }
    }

    /**
     * A free page holding one reference, or empty when all pages are out. Its memory is resident: taken
     * from the pages faulted ahead, or else faulted by this call.
     *
     * @throws OutOfMemoryError when a slab is needed and cannot be mapped
     */
    Optional<ChunkPage> tryAllocate() {
        ChunkPage page;
        ColdPage toFault = null;
        lock.lock();
        try {
            for (;;) {
                if (closed) {
                    throw new IllegalStateException("chunk allocator closed");
                }
                page = ready.pollFirst();
                if (page != null) {
                    break;
                }
                toFault = cold.pollFirst();
                if (toFault != null) {
                    page = toFault.page();
                    demandFaultedPages++;
                    break;
                }
                if (carvedPages < capacityPages) {
                    mapSlab();
                } else if (inFlightPages > 0) {
                    changed.awaitUninterruptibly(); // a range being mapped or faulted is published soon
                } else {
                    return Optional.empty();
                }
            }
            page.onAllocate();
            outstandingPages++;
            lastTakeNanos = System.nanoTime();
            if (ready.size() < readyAheadPages) {
                changed.signalAll(); // the background thread tops the ready pages up
            }
        } finally {
            lock.unlock();
        }
        if (toFault != null) {
            LOG.debug("cpu tier page faulted by its taker: none was ready ({} pages faulted ahead so far)", readyAheadPages);
            try {
                prefaulter.prefault(toFault.range(), pin);
                prefaulter.writeOnceByKernel(toFault.memory()); // a disk-tier hit reads a file into it
            } catch (IllegalStateException e) {
                // closed under us: the caller's first access throws, as for any page of a closed allocator
            }
        }
        return Optional.of(page);
    }

    /** Returns a page whose last reference was dropped. */
    void free(ChunkPage page) {
        lock.lock();
        try {
            outstandingPages--;
            if (!closed) {
                ready.addFirst(page); // LIFO: the hottest page is reused first
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Maps the next slab; called with the lock held and returns with it held, but releases it during the
     * mmap (microseconds, but a kernel call nonetheless). Its pages join the cold list, or the ready list
     * when the slab is plain JDK memory (zeroed, hence resident, at allocation).
     *
     * @throws OutOfMemoryError when the slab cannot be mapped
     */
    private void mapSlab() {
        int pages = Math.min(pagesPerSlab, capacityPages - carvedPages);
        carvedPages += pages;
        inFlightPages += pages;
        OffHeapSlab slab = null;
        HostRegistration registration = null;
        RuntimeException registerFailure = null;
        lock.unlock();
        try {
            slab = OffHeapSlab.map(pages * pageBytes);
            try {
                registration = registrar.register(slab.segment());
            } catch (RuntimeException e) {
                registerFailure = e; // the slab works unregistered: device copies of its pages are staged
            }
        } finally {
            lock.lock();
            inFlightPages -= pages;
            if (registerFailure != null && !registrationFailed) {
                registrationFailed = true;
                LOG.warn("cpu tier memory: registering a slab for device copies failed ({}); its pages are copied through "
                        + "staging buffers (logged once)", registerFailure.getMessage());
            }
            if (slab == null) {
                carvedPages -= pages;
            } else if (closed) {
                unregister(registration);
                slab.close(); // nobody has seen it
            } else {
                slabs.add(slab);
                if (registration != null) {
                    registrations.put(slab, registration);
                }
                MemorySegment memory = slab.segment();
                for (int i = 0; i < pages; i++) {
                    ChunkPage page = new ChunkPage(this, memory.asSlice(i * pageBytes, pageBytes));
                    if (slab.nativeMapped()) {
                        cold.addLast(new ColdPage(memory, i * pageBytes, pageBytes, page));
                    } else {
                        ready.addLast(page);
                    }
                }
            }
            changed.signalAll();
        }
    }

    /**
     * Waits until the background thread's first fill is done (the ready-ahead pages are resident, or the
     * whole budget is), or the allocator is closed, at most {@code timeoutNanos}; true when it is done.
     */
    boolean awaitFirstFill(long timeoutNanos) {
        lock.lock();
        try {
            long left = timeoutNanos;
            while (!closed && prefaultThread != null && !firstFillDone) {
                if (left <= 0) {
                    return false;
                }
                try {
                    left = changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Lets refills wait while {@code busy} says an engine call runs (the first fill at open does not wait). */
    void yieldTo(java.util.function.BooleanSupplier busy) {
        this.foregroundBusy = busy;
    }

    /** The background thread: keeps {@code readyAheadPages} free pages resident until close. */
    private void prefaultAhead() {
        boolean lowered = false;
        lock.lock();
        try {
            for (;;) {
                while (!closed && (ready.size() >= readyAheadPages || cold.isEmpty() && carvedPages >= capacityPages)) {
                    if (!lowered) {
                        lowered = true;
                        firstFillDone = true;
                        changed.signalAll();
                        lowerPriority(); // the first fill is done: refills only use cores the engine leaves idle
                    }
                    changed.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                long quietNanos = System.nanoTime() - lastTakeNanos;
                if (quietNanos < QUIET_NANOS && ready.size() > readyAheadPages / 4) {
                    try {
                        changed.awaitNanos(QUIET_NANOS - quietNanos); // takers are busy: refill after them
                    } catch (InterruptedException e) {
                        return; // nobody interrupts it but the JVM's end
                    }
                    continue;
                }
                if (lowered && foregroundBusy.getAsBoolean() && ready.size() > readyAheadPages / 4) {
                    try {
                        changed.awaitNanos(FOREGROUND_POLL_NANOS); // an engine call is running: refill after it
                    } catch (InterruptedException e) {
                        return;
                    }
                    continue;
                }
                if (cold.isEmpty()) {
                    try {
                        mapSlab();
                    } catch (OutOfMemoryError e) {
                        LOG.warn("cpu tier memory: no more pages are prefaulted ahead of demand: {}", e.getMessage());
                        return;
                    }
                    continue;
                }
                List<ColdPage> batch = claimBatch(readyAheadPages - ready.size());
                inFlightPages += batch.size();
                lock.unlock();
                try {
                    long start = System.nanoTime();
                    Prefaulter.Method method = prefaulter.prefault(ColdPage.span(batch), pin);
                    for (ColdPage c : batch) { // each page's own bytes only: a small page shares a 4 KiB page with neighbours in use
                        prefaulter.writeOnceByKernel(c.memory()); // unused: zeroed, ready for file reads into it
                    }
                    if (LOG.isDebugEnabled()) {
                        LOG.debug("cpu tier: {} page(s) of {} bytes made resident ahead ({}) in {} us", batch.size(), pageBytes,
                                method, (System.nanoTime() - start) / 1000);
                    }
                } catch (IllegalStateException e) {
                    // the slab was unmapped under us: close() gave up waiting for this step
                } finally {
                    lock.lock();
                    inFlightPages -= batch.size();
                    if (!closed) {
                        batch.forEach(c -> ready.addLast(c.page()));
                    }
                    changed.signalAll();
                }
            }
        } finally {
            firstFillDone = true; // also when the thread gave up (no memory to map): nobody waits for it in vain
            changed.signalAll();
            lock.unlock();
        }
    }

    /**
     * Gives the calling (background) thread the lowest priority, nice 19, for good (without privileges a
     * thread cannot raise it again): it then runs on cores the engine leaves idle.
     */
    private static void lowerPriority() {
        try {
            Libc.instance().ifPresent(libc -> libc.niceCurrentThread(BACKGROUND_NICE));
        } catch (RuntimeException e) {
            LOG.debug("{} keeps its priority: {}", PREFAULT_THREAD, e.toString());
        }
    }

    /**
     * Takes consecutive cold pages of one slab: at least one, at most {@code maxPages} and
     * {@value #FAULT_STEP_BYTES} bytes (locked).
     */
    private List<ColdPage> claimBatch(int maxPages) {
        List<ColdPage> batch = new ArrayList<>();
        ColdPage first = cold.pollFirst();
        batch.add(first);
        long end = first.offset() + first.length();
        for (ColdPage next = cold.peekFirst(); next != null && batch.size() < maxPages && next.slab() == first.slab()
                && next.offset() == end && end + next.length() - first.offset() <= FAULT_STEP_BYTES; next = cold.peekFirst()) {
            batch.add(cold.pollFirst());
            end += next.length();
        }
        return batch;
    }

    /**
     * Stops the background thread (waiting up to {@value #PREFAULT_JOIN_MILLIS} ms for its current step) and
     * unmaps every slab; pages still referenced become inaccessible (access throws, never crashes). Never
     * throws: a slab whose memory a native call is using right now (a file or socket write of a buffer
     * over it) cannot be unmapped yet; it stays mapped and valid, every other slab is unmapped at once,
     * and the slabs left are retried by a background thread (every {@value #RETRY_INTERVAL_MILLIS} ms, for
     * a bounded time) and by every later {@code close()}.
     */
    @Override
    public void close() {
        boolean first;
        lock.lock();
        try {
            first = !closed;
            closed = true;
            ready.clear();
            cold.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (prefaultThread != null && prefaultThread != Thread.currentThread()) {
            try {
                prefaultThread.join(PREFAULT_JOIN_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // unmap now: a step still running fails safely (see prefaultAhead)
            }
        }
        lock.lock();
        try {
            List<RuntimeException> failures = unmapSlabs();
            if (first && !failures.isEmpty()) {
                LOG.warn("cpu tier memory: {} bytes in {} slab(s) stay mapped after close: a native call is using them ({}); "
                        + "a later close() retries{}", mappedBytesLocked(), slabs.size(), failures.getFirst().getMessage(),
                        retryUnmapFor.isPositive() ? ", and so does a background thread every " + RETRY_INTERVAL_MILLIS
                                + " ms for " + retryUnmapFor.toSeconds() + " s" : "");
                if (retryUnmapFor.isPositive()) {
                    Thread.ofPlatform().daemon().name("lmcache-slab-unmap").start(this::retryUnmap);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Tries to unmap every slab left; keeps those that fail; returns their failures (locked). */
    private List<RuntimeException> unmapSlabs() {
        List<RuntimeException> failures = new ArrayList<>();
        for (Iterator<OffHeapSlab> it = slabs.iterator(); it.hasNext(); ) {
            OffHeapSlab slab = it.next();
            unregister(registrations.remove(slab)); // before the unmap, whether or not the unmap succeeds
            try {
                slab.close();
                it.remove();
            } catch (RuntimeException e) {
                failures.add(e); // stays open and valid (OffHeapSlab.close): retried later
            }
        }
        return failures;
    }

    private static void unregister(HostRegistration registration) {
        if (registration == null) {
            return;
        }
        try {
            registration.close();
        } catch (RuntimeException e) {
            LOG.warn("cpu tier memory: unregistering a slab from device copies failed: {}", e.getMessage());
        }
    }

    /** The background retry after a close that left slabs mapped: runs until they are unmapped or time is up. */
    private void retryUnmap() {
        long deadline = System.nanoTime() + retryUnmapFor.toNanos();
        for (;;) {
            try {
                Thread.sleep(RETRY_INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            lock.lock();
            try {
                List<RuntimeException> failures = unmapSlabs();
                if (slabs.isEmpty()) {
                    LOG.info("cpu tier memory: the slabs left mapped at close are unmapped now");
                    return;
                }
                if (System.nanoTime() - deadline >= 0) {
                    LOG.warn("cpu tier memory: {} bytes ({} slab(s)) still mapped {} s after close, still in use ({}); "
                            + "no more background retries, a later close() retries", mappedBytesLocked(), slabs.size(),
                            retryUnmapFor.toSeconds(), failures.getFirst().getMessage());
                    return;
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private long mappedBytesLocked() {
        return slabs.stream().mapToLong(OffHeapSlab::sizeBytes).sum();
    }
}
