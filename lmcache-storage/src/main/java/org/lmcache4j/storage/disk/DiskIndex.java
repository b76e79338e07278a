package org.lmcache4j.storage.disk;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.tier.NestedPins;

/**
 * The {@code disk} tier's in-memory index and byte budget: which chunks have a file, in least recently
 * used order, with their pins and readers, and which keys have a file operation under way. It does no
 * I/O; {@link DiskTier} does the file work between the calls.
 *
 * <p>Implementation notes. Everything is guarded by one lock (this object's monitor). The budget counts
 * {@code storedBytes} (files in the index) plus {@code reservedBytes} (files being written, and files
 * leaving the index until their deletion is done), and a reservation is taken under the lock before any
 * byte is written, so the sum never passes the capacity, and neither do the files on disk: the bytes of
 * an evicted or removed file stay reserved until the file is gone. A key with a write or a deletion
 * under way is <em>busy</em>: it is not in the index, and a put of it waits for the operation to end
 * (its future) and tries again, so two operations never race on one file name. The {@link DiskSpares spare
 * files} count against the budget too: {@code storedBytes + reservedBytes + spares.bytes()} never passes
 * the capacity. A removed file kept as a spare moves its bytes from the reservation to the spares', and the
 * file a put writes over (a spare or its first victim's) stays in that put's reservation. A put takes a spare to write over when there is one, and drops further spares (oldest
 * first) before it evicts a chunk.
 */
final class DiskIndex {

    private static final Duration LONGEST_PIN = Duration.ofNanos(Long.MAX_VALUE);

    private final long capacityBytes;
    private final LongSupplier nanoClock;
    private final LinkedHashMap<ChunkKey, Entry> entries = new LinkedHashMap<>(256, 0.75f, true);
    private final Map<ChunkKey, CompletableFuture<Void>> busy = new HashMap<>();
    private final DiskSpares spares;
    private long storedBytes;
    private long reservedBytes;
    private boolean closed;

    DiskIndex(long capacityBytes, LongSupplier nanoClock) {
        this.capacityBytes = capacityBytes;
        this.nanoClock = nanoClock;
        this.spares = new DiskSpares(capacityBytes);
    }

    /** Adds a chunk found at start; callers add them least recently used first and within the budget. */
    synchronized void load(ChunkKey key, long sizeBytes) {
        entries.put(key, new Entry(sizeBytes));
        storedBytes += sizeBytes;
    }

    synchronized boolean contains(ChunkKey key) {
        ensureOpen();
        return entries.containsKey(key);
    }

    /** The entry of {@code key} with one more reader, marked most recently used; null when absent. */
    synchronized Entry acquire(ChunkKey key) {
        ensureOpen();
        Entry e = entries.get(key);
        if (e != null) {
            e.readers++;
        }
        return e;
    }

    /** Ends one reader's hold of {@code e}, indexed or not. */
    synchronized void release(Entry e) {
        e.readers--;
    }

    /**
     * Starts a put of a file of {@code sizeBytes} under {@code key}: says it is stored already, busy, or
     * refused, or reserves the bytes, marks the key busy and picks the file to write over (the newest spare),
     * the spares to delete and the victims to evict first (busy, their bytes part of the reservation). Nothing
     * is evicted or taken when the put is refused.
     */
    synchronized Admission admit(ChunkKey key, long sizeBytes) {
        ensureOpen();
        if (entries.containsKey(key)) {
            return new Admission.Stored();
        }
        CompletableFuture<Void> running = busy.get(key);
        if (running != null) {
            return new Admission.Busy(running);
        }
        if (sizeBytes > capacityBytes) {
            return new Admission.Refused();
        }
        long unused = capacityBytes - storedBytes - reservedBytes - spares.bytes();
        DiskSpares.Spare reuse = spares.takeNewest();
        List<DiskSpares.Spare> dropped = new ArrayList<>();
        long taken = reuse == null ? 0 : reuse.sizeBytes(); // bytes of files this put must write over or delete
        for (DiskSpares.Spare s; unused + taken < sizeBytes && (s = spares.takeOldest()) != null; ) {
            dropped.add(s);
            taken += s.sizeBytes();
        }
        long free = unused + taken;
        List<Victim> victims = new ArrayList<>();
        if (free < sizeBytes) {
            long now = nanoClock.getAsLong();
            long freed = free;
            for (Map.Entry<ChunkKey, Entry> candidate : entries.entrySet()) {
                Entry e = candidate.getValue();
                if (!e.pinned(now) && e.readers == 0) {
                    victims.add(new Victim(candidate.getKey(), e.sizeBytes, false));
                    freed += e.sizeBytes;
                    if (freed >= sizeBytes) {
                        break;
                    }
                }
            }
            if (freed < sizeBytes) {
                dropped.forEach(spares::putBack);
                if (reuse != null) {
                    spares.putBack(reuse);
                }
                return new Admission.Refused();
            }
            for (Victim v : victims) {
                entries.remove(v.key());
                busy.put(v.key(), new CompletableFuture<>());
                storedBytes -= v.sizeBytes();
                taken += v.sizeBytes();
            }
        }
        // the files in the way until they are gone or written over, and what else the file needs of the room unused
        long reserved = taken + Math.min(unused, Math.max(0, sizeBytes - taken));
        reservedBytes += reserved;
        busy.put(key, new CompletableFuture<>());
        return new Admission.Admitted(List.copyOf(victims), reserved, reuse, List.copyOf(dropped));
    }

    /** Ends the deletion of {@code key} (removed, evicted or corrupt), releasing {@code releaseBytes}. */
    synchronized void deleted(ChunkKey key, long releaseBytes) {
        reservedBytes -= releaseBytes;
        CompletableFuture<Void> done = busy.remove(key);
        if (done != null) {
            done.complete(null);
        }
    }

    /**
     * Holds a place in the spare pool for the file of {@code v}, a chunk removed, about to be moved there:
     * its spare id, or -1 when the pool has no room for it or a reader held the chunk (its file is then
     * deleted, as a reader may still be reading it).
     */
    synchronized long spareSlot(Victim v) {
        return v.held() || closed ? -1 : spares.reserve(v.sizeBytes());
    }

    /**
     * Ends the deletion of {@code v}, whose file is now the spare {@code id} (see {@link #spareSlot}): false,
     * and the spare not kept, when the index closed meanwhile (the caller deletes the file).
     */
    synchronized boolean spared(Victim v, long id) {
        reservedBytes -= v.sizeBytes();
        if (closed) { // no close will take it now
            spares.unreserve(v.sizeBytes());
        } else {
            spares.added(new DiskSpares.Spare(id, v.sizeBytes()));
        }
        CompletableFuture<Void> done = busy.remove(v.key());
        if (done != null) {
            done.complete(null);
        }
        return !closed;
    }

    /** Gives up the place {@link #spareSlot} held for {@code v}, whose file could not be moved there. */
    synchronized void spareSlotUnused(Victim v) {
        spares.unreserve(v.sizeBytes());
    }

    /** Takes every spare file out of the pool, to be deleted. */
    synchronized List<DiskSpares.Spare> takeSpares() {
        List<DiskSpares.Spare> all = new ArrayList<>();
        for (DiskSpares.Spare s; (s = spares.takeOldest()) != null; ) {
            all.add(s);
        }
        return all;
    }

    /** Spare files kept to be written over. */
    synchronized int spareFiles() {
        return spares.files();
    }

    /** Returns {@code bytes} of a put's reservation it no longer needs. */
    synchronized void release(long bytes) {
        reservedBytes -= bytes;
    }

    /**
     * Ends a put whose file is in place: indexes it as most recently used, turning its reservation of
     * {@code sizeBytes} into stored bytes. False (and nothing indexed) when the index has been closed.
     */
    synchronized boolean commit(ChunkKey key, long sizeBytes) {
        reservedBytes -= sizeBytes;
        busy.remove(key).complete(null);
        if (closed) {
            return false;
        }
        entries.put(key, new Entry(sizeBytes));
        storedBytes += sizeBytes;
        return true;
    }

    /** Ends a put that failed, returning its reservation of {@code reservedBytes}. */
    synchronized void abort(ChunkKey key, long reservedBytes) {
        this.reservedBytes -= reservedBytes;
        busy.remove(key).complete(null);
    }

    /** Unindexes {@code key} for deletion (its bytes stay reserved until {@link #deleted}); null when absent. */
    synchronized Victim remove(ChunkKey key) {
        ensureOpen();
        Entry e = entries.remove(key);
        return e == null ? null : startDeletion(key, e);
    }

    /** Like {@link #remove}, but only when {@code key} is still indexed as {@code expected}. */
    synchronized Victim removeIfSame(ChunkKey key, Entry expected) {
        return !closed && entries.remove(key, expected) ? startDeletion(key, expected) : null;
    }

    /** Unindexes every chunk for deletion, pinned ones included. */
    synchronized List<Victim> clear() {
        ensureOpen();
        List<Victim> all = new ArrayList<>(entries.size());
        for (Map.Entry<ChunkKey, Entry> e : entries.entrySet()) {
            all.add(startDeletion(e.getKey(), e.getValue()));
        }
        entries.clear();
        return all;
    }

    /**
     * Pins {@code key} until {@code timeout} from now, or the latest deadline of its nested pins; a
     * timeout too long for nanoseconds (about 292 years) pins without end. False when absent.
     */
    synchronized boolean pin(ChunkKey key, Duration timeout) {
        ensureOpen();
        long now = nanoClock.getAsLong();
        long until = now + (timeout.compareTo(LONGEST_PIN) > 0 ? Long.MAX_VALUE : timeout.toNanos());
        Entry e = entries.get(key);
        if (e == null) {
            return false;
        }
        e.pins.pin(now, until);
        return true;
    }

    synchronized void unpin(ChunkKey key) {
        ensureOpen();
        Entry e = entries.get(key);
        if (e != null) {
            e.pins.unpin();
        }
    }

    synchronized long chunks() {
        return entries.size();
    }

    /**
     * Bytes of chunks now: indexed files plus reservations. Spare files, inside the budget too, are not
     * counted: a put takes them before anything else, as free room.
     */
    synchronized long usedBytes() {
        return storedBytes + reservedBytes;
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** Forgets every chunk (their files stay for the next start); later calls throw IllegalStateException. */
    synchronized boolean close() {
        if (closed) {
            return false;
        }
        closed = true;
        entries.clear();
        storedBytes = 0;
        return true;
    }

    private Victim startDeletion(ChunkKey key, Entry e) {
        storedBytes -= e.sizeBytes;
        reservedBytes += e.sizeBytes;
        busy.put(key, new CompletableFuture<>());
        return new Victim(key, e.sizeBytes, e.readers > 0);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("disk tier closed");
        }
    }

    /** A chunk with a file: its size on disk, pins and readers. Fields are guarded by the index lock. */
    static final class Entry {
        final long sizeBytes;
        final NestedPins pins = new NestedPins();
        int readers;

        Entry(long sizeBytes) {
            this.sizeBytes = sizeBytes;
        }

        boolean pinned(long now) {
            return pins.pinned(now);
        }
    }

    /**
     * A chunk leaving the index whose file must be deleted (or written over, or kept as a spare).
     *
     * @param held true when a reader still held it as it left (its file may be open)
     */
    record Victim(ChunkKey key, long sizeBytes, boolean held) {
    }

    /** What {@link #admit} decided. */
    sealed interface Admission {

        /** The key is stored already; the first content stays. */
        record Stored() implements Admission {
        }

        /** Another operation on the key's file is under way; wait for {@code done} and try again. */
        record Busy(CompletableFuture<Void> done) implements Admission {
        }

        /** No room: larger than the budget, or everything in the way is pinned or being read. */
        record Refused() implements Admission {
        }

        /**
         * Room reserved: write over {@code reuse} (a spare, or when null, the first victim's file if any),
         * delete the other victims' files and the {@code dropped} spares, then shrink the reservation to the
         * file's size.
         */
        record Admitted(List<Victim> victims, long reservedBytes, DiskSpares.Spare reuse, List<DiskSpares.Spare> dropped)
                implements Admission {
        }
    }
}
