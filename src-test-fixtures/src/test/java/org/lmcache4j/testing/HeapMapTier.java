package org.lmcache4j.testing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;

/**
 * A reference {@link StorageTier} for testing {@link StorageTierContract} itself: heap copies in an
 * access-ordered map under one lock, charged by payload length, with pins (nesting, with deadlines)
 * and reader counts that eviction skips. Readers keep their own array, so removal never waits.
 * After close every call is a miss.
 */
final class HeapMapTier implements StorageTier {

    private final long capacityBytes;
    private final LinkedHashMap<ChunkKey, Entry> map = new LinkedHashMap<>(16, 0.75f, true);
    private long usedBytes;
    private boolean closed;

    HeapMapTier(long capacityBytes) {
        this.capacityBytes = capacityBytes;
    }

    @Override
    public String name() {
        return "heap";
    }

    @Override
    public synchronized boolean contains(ChunkKey key) {
        return !closed && map.containsKey(key);
    }

    @Override
    public synchronized Optional<ChunkBuffer> get(ChunkKey key) {
        Entry e = closed ? null : map.get(key);
        if (e == null) {
            return Optional.empty();
        }
        e.readers++;
        return Optional.of(new HeapBuffer(key, e));
    }

    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        byte[] copy = payload.toArray(ValueLayout.JAVA_BYTE); // outside the lock
        synchronized (this) {
            if (closed || copy.length > capacityBytes) {
                return false;
            }
            if (map.containsKey(key)) {
                return true;
            }
            long need = usedBytes + copy.length - capacityBytes;
            List<ChunkKey> victims = new ArrayList<>();
            long now = System.nanoTime();
            for (Iterator<Map.Entry<ChunkKey, Entry>> it = map.entrySet().iterator(); need > 0 && it.hasNext(); ) {
                Map.Entry<ChunkKey, Entry> candidate = it.next();
                if (candidate.getValue().evictable(now)) {
                    victims.add(candidate.getKey());
                    need -= candidate.getValue().bytes.length;
                }
            }
            if (need > 0) {
                return false;
            }
            victims.forEach(this::unlink);
            map.put(key, new Entry(copy));
            usedBytes += copy.length;
            return true;
        }
    }

    @Override
    public synchronized boolean remove(ChunkKey key) {
        return !closed && unlink(key);
    }

    private boolean unlink(ChunkKey key) {
        Entry e = map.remove(key);
        if (e == null) {
            return false;
        }
        usedBytes -= e.bytes.length;
        return true;
    }

    @Override
    public synchronized boolean pin(ChunkKey key, Duration timeout) {
        Entry e = closed ? null : map.get(key);
        if (e == null) {
            return false;
        }
        e.pinDeadlines.add(System.nanoTime() + timeout.toNanos());
        return true;
    }

    @Override
    public synchronized void unpin(ChunkKey key) {
        Entry e = closed ? null : map.get(key);
        if (e != null && !e.pinDeadlines.isEmpty()) {
            e.pinDeadlines.removeFirst();
        }
    }

    @Override
    public synchronized void clear() {
        map.clear();
        usedBytes = 0;
    }

    @Override
    public synchronized TierStats stats() {
        return new TierStats(name(), map.size(), usedBytes, capacityBytes, 0, !closed);
    }

    @Override
    public synchronized void close() {
        closed = true;
        clear();
    }

    private synchronized void release(Entry e) {
        e.readers--;
    }

    private static final class Entry {
        final byte[] bytes;
        final List<Long> pinDeadlines = new ArrayList<>();
        int readers;

        Entry(byte[] bytes) {
            this.bytes = bytes;
        }

        boolean evictable(long now) {
            pinDeadlines.removeIf(deadline -> now - deadline >= 0);
            return readers == 0 && pinDeadlines.isEmpty();
        }
    }

    private final class HeapBuffer implements ChunkBuffer {
        private final ChunkKey key;
        private final Entry entry;
        private final MemorySegment segment;
        private final AtomicBoolean closed = new AtomicBoolean();

        HeapBuffer(ChunkKey key, Entry entry) {
            this.key = key;
            this.entry = entry;
            this.segment = MemorySegment.ofArray(entry.bytes).asReadOnly();
        }

        @Override
        public ChunkKey key() {
            return key;
        }

        @Override
        public MemorySegment segment() {
            return segment;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                release(entry);
            }
        }
    }
}
