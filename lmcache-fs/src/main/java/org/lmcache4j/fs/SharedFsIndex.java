package org.lmcache4j.fs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.lmcache4j.api.ChunkKey;

/**
 * One engine's view of the shared directory: the chunk files it knows (those it wrote, and those its last
 * sweep found), their sizes in order of last use, and what it must not evict (its pins, its readers'
 * holds, its writes in flight). The budget is kept against this view: exactly for this engine's own
 * writes, approximately for other engines' (known from the last sweep). All methods are atomic; the
 * {@code evictor} of {@link #reserve} runs inside, so it must only try locks, never wait.
 *
 * <p>Order of use: a write or a read here stamps the chunk with the wall clock (and a sequence number
 * for ties); a chunk found by a sweep is stamped with its file's modification time, which reads renew
 * (the tier's touch), so chunks other engines use stay younger than chunks nobody reads.
 */
final class SharedFsIndex {

    /** When a chunk was last used, for eviction order; {@code seq} orders equal times and is unique. */
    private record Order(long atMillis, long seq) implements Comparable<Order> {
        @Override
        public int compareTo(Order o) {
            int c = Long.compare(atMillis, o.atMillis);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private static final class Entry {
        final long bytes;
        final long addedSeq;
        Order order;
        boolean pending; // reserved by a write in flight, not yet renamed into place

        Entry(long bytes, long addedSeq, Order order, boolean pending) {
            this.bytes = bytes;
            this.addedSeq = addedSeq;
            this.order = order;
            this.pending = pending;
        }
    }

    private static final class Pin {
        int count;
        long deadlineNanos;
    }

    private final long capacityBytes;
    private final Map<ChunkKey, Entry> entries = new HashMap<>();
    private final TreeMap<Order, ChunkKey> recency = new TreeMap<>();
    private final Map<ChunkKey, Integer> holds = new HashMap<>();
    private final Map<ChunkKey, Pin> pins = new HashMap<>();
    private long usedBytes;
    private long seq;

    SharedFsIndex(long capacityBytes) {
        this.capacityBytes = capacityBytes;
    }

    /** A sequence number: entries added after it have larger {@code addedSeq}. */
    synchronized long mark() {
        return ++seq;
    }

    /** True when {@code key} is known, written or being written. */
    synchronized boolean known(ChunkKey key) {
        return entries.containsKey(key);
    }

    /** True when {@code key} is known and its write finished. */
    synchronized boolean present(ChunkKey key) {
        Entry e = entries.get(key);
        return e != null && !e.pending;
    }

    /**
     * Reserves {@code bytes} for a write of {@code key}, evicting least recently used chunks (through
     * {@code evictor}, which deletes a victim's file or says it is busy) until they fit.
     *
     * @param evicted receives the keys evicted, also when there is no room in the end
     * @return false when there is no room: every chunk in the way is pinned, held or being written
     */
    synchronized boolean reserve(ChunkKey key, long bytes, Predicate<ChunkKey> evictor, List<ChunkKey> evicted) {
        if (!evictDownTo(capacityBytes - bytes, evictor, evicted)) {
            return false;
        }
        add(key, bytes, System.currentTimeMillis(), true);
        return true;
    }

    /** The write of {@code key} reserved with {@link #reserve} is in place. */
    synchronized void commit(ChunkKey key) {
        Entry e = entries.get(key);
        if (e != null) {
            e.pending = false;
        }
    }

    /** Adds a chunk file a sweep found, last modified at {@code mtimeMillis}; false when it was known. */
    synchronized boolean adopt(ChunkKey key, long bytes, long mtimeMillis) {
        if (entries.containsKey(key)) {
            return false;
        }
        add(key, bytes, mtimeMillis, false);
        return true;
    }

    private void add(ChunkKey key, long bytes, long atMillis, boolean pending) {
        long s = ++seq;
        Order o = new Order(atMillis, s);
        entries.put(key, new Entry(bytes, s, o, pending));
        recency.put(o, key);
        usedBytes += bytes;
    }

    /** Forgets {@code key} (its file was removed or is gone); true when it was known. */
    synchronized boolean forget(ChunkKey key) {
        Entry e = entries.remove(key);
        if (e == null) {
            return false;
        }
        recency.remove(e.order);
        usedBytes -= e.bytes;
        return true;
    }

    /** Marks {@code key} as used now, when known and written. */
    synchronized void touch(ChunkKey key) {
        Entry e = entries.get(key);
        if (e != null && !e.pending) {
            recency.remove(e.order);
            e.order = new Order(System.currentTimeMillis(), ++seq);
            recency.put(e.order, key);
        }
    }

    /**
     * While the known bytes exceed the budget, the least recently used chunk that may be evicted (written,
     * not pinned, not held, not in {@code skip}); else null. The sweep deletes victims one at a time
     * outside this object's lock ({@link #forgetIfEvictable}), so that readers never wait for a file
     * system's deletes.
     */
    synchronized ChunkKey oldestEvictableOverBudget(Set<ChunkKey> skip) {
        if (usedBytes <= capacityBytes) {
            return null;
        }
        for (ChunkKey k : recency.values()) {
            if (!skip.contains(k) && evictable(k)) {
                return k;
            }
        }
        return null;
    }

    /** Forgets {@code key} if it may still be evicted (see {@link #oldestEvictableOverBudget}); true when it did. */
    synchronized boolean forgetIfEvictable(ChunkKey key) {
        if (!evictable(key)) {
            return false;
        }
        pins.remove(key);
        return forget(key);
    }

    private boolean evictable(ChunkKey key) {
        Entry e = entries.get(key);
        return e != null && !e.pending && !holds.containsKey(key) && !pinned(key);
    }

    private boolean evictDownTo(long limitBytes, Predicate<ChunkKey> evictor, List<ChunkKey> evicted) {
        if (limitBytes < 0) {
            return false;
        }
        Iterator<Map.Entry<Order, ChunkKey>> it = recency.entrySet().iterator();
        while (usedBytes > limitBytes && it.hasNext()) {
            ChunkKey victim = it.next().getValue();
            Entry e = entries.get(victim);
            if (!evictable(victim) || !evictor.test(victim)) {
                continue;
            }
            it.remove();
            entries.remove(victim);
            pins.remove(victim);
            usedBytes -= e.bytes;
            evicted.add(victim);
        }
        return usedBytes <= limitBytes;
    }

    private boolean pinned(ChunkKey key) {
        Pin p = pins.get(key);
        if (p == null) {
            return false;
        }
        if (p.deadlineNanos - System.nanoTime() <= 0) {
            pins.remove(key);
            return false;
        }
        return true;
    }

    /** A reader holds {@code key} until {@link #release}: it is not evicted meanwhile. */
    synchronized void hold(ChunkKey key) {
        holds.merge(key, 1, Integer::sum);
    }

    synchronized void release(ChunkKey key) {
        holds.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1);
    }

    /** Adds a pin of {@code key} lasting at most {@code timeoutNanos}; pins nest. */
    synchronized void pin(ChunkKey key, long timeoutNanos) {
        Pin p = pins.computeIfAbsent(key, k -> new Pin());
        long deadline = System.nanoTime() + timeoutNanos;
        p.deadlineNanos = p.count == 0 || deadline - p.deadlineNanos > 0 ? deadline : p.deadlineNanos;
        p.count++;
    }

    synchronized void unpin(ChunkKey key) {
        Pin p = pins.get(key);
        if (p != null && --p.count <= 0) {
            pins.remove(key);
        }
    }

    synchronized void unpinAll(ChunkKey key) {
        pins.remove(key);
    }

    /** Keys known and written whose entry is older than {@code mark} (a sweep checks whether their files vanished). */
    synchronized List<ChunkKey> presentBefore(long mark, Set<ChunkKey> except) {
        List<ChunkKey> out = new ArrayList<>();
        entries.forEach((k, e) -> {
            if (!e.pending && e.addedSeq < mark && !except.contains(k)) {
                out.add(k);
            }
        });
        return out;
    }

    /** Forgets every written chunk and every pin (writes in flight keep their reservations). */
    synchronized void clearWritten() {
        entries.entrySet().removeIf(en -> {
            if (en.getValue().pending) {
                return false;
            }
            recency.remove(en.getValue().order);
            usedBytes -= en.getValue().bytes;
            return true;
        });
        pins.clear();
    }

    synchronized long chunks() {
        return entries.size();
    }

    synchronized long usedBytes() {
        return usedBytes;
    }
}
