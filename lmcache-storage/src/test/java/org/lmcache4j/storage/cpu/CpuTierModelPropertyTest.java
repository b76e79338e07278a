package org.lmcache4j.storage.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.testing.PropertyCheck;
import org.lmcache4j.testing.PropertyCheck.Gen;
import org.lmcache4j.testing.StorageTierContract;

/**
 * The cpu tier (with its allocator and pages) against a model: random sequences of puts, reserve and
 * commit, reads held and closed, removes, pins with a clock that moves forward, touches, clears and
 * evictions under a budget of a few pages. After every step the tier must agree with the model on what
 * is stored, which chunks it evicted and in which order, and how many pages are out; the budget holds;
 * held buffers read the bytes stored.
 *
 * <p>The model: chunks in least-recently-used order, where a use is a put or commit (a new chunk), a
 * get, a touch, a pin or an unpin (the tier counts pins as uses, like the disk tier); contains and a
 * put of a stored key are not uses. A page is out while the index, a reader or a reservation holds it.
 * Eviction takes the least recently used chunk that is not read, not pinned (a pin protects while it
 * is not unpinned and some deadline of its pins is ahead; a pin after protection lapsed starts afresh)
 * and not kept by the reserving caller, one at a time, only when every page is out.
 */
class CpuTierModelPropertyTest {

    @Test
    void theCpuTierBehavesLikeItsModel() {
        PropertyCheck.forAll("cpu tier = LRU model", 150, gen -> new Run(gen).run());
    }

    /** One page of the model: identity only. */
    private static final class Page {
    }

    private static final class Chunk {
        final byte[] bytes;
        final Page page;
        int pins;
        final List<Long> deadlines = new ArrayList<>();

        Chunk(byte[] bytes, Page page) {
            this.bytes = bytes;
            this.page = page;
        }

        boolean pinned(long now) {
            return pins > 0 && deadlines.stream().anyMatch(d -> now - d < 0);
        }
    }

    private record Reader(ChunkBuffer buffer, int key, byte[] expected, Page page) {
    }

    private record Reservation(ChunkPage page, Page model, byte[] bytes) {
    }

    private record Evicted(int key, byte[] bytes) {
    }

    private static final class Run {
        final Gen gen;
        final long chunkBytes;
        final long pageBytes;
        final int capacityPages;
        final long budgetBytes;
        final int keyCount;
        final ChunkKey[] keys;
        final Map<ChunkKey, Integer> keyIndex = new java.util.HashMap<>();
        long now;
        final CpuTier tier;

        // the model
        final LinkedHashMap<Integer, Chunk> chunks = new LinkedHashMap<>(); // least recently used first
        final List<Reader> readers = new ArrayList<>();
        final List<Reservation> reservations = new ArrayList<>();
        final List<Evicted> modelEvictions = new ArrayList<>();
        final List<Evicted> tierEvictions = new ArrayList<>();
        Set<Integer> keep = Set.of();
        final List<String> trace = new ArrayList<>();

        Run(Gen gen) {
            this.gen = gen;
            this.chunkBytes = gen.between(1, 300);
            this.pageBytes = Math.ceilDiv(chunkBytes, 64) * 64;
            this.capacityPages = gen.between(1, 6);
            this.budgetBytes = capacityPages * pageBytes + gen.between(0, (int) pageBytes - 1);
            this.keyCount = capacityPages + gen.between(1, 4);
            this.keys = new ChunkKey[keyCount];
            for (int i = 0; i < keyCount; i++) {
                keys[i] = StorageTierContract.key(i);
                keyIndex.put(keys[i], i);
            }
            // now and then a clock about to wrap: only differences of nanoTime values mean anything
            this.now = gen.chance(0.3) ? Long.MAX_VALUE - gen.between(0, 300) : gen.random().nextLong();
            this.tier = new CpuTier(budgetBytes, chunkBytes, false, () -> now, this::onEvicted);
        }

        void run() {
            boolean ok = false;
            try {
                assertEquals(pageBytes, tier.pageBytes(), "page size");
                int steps = 10 + gen.size(200);
                for (int s = 0; s < steps; s++) {
                    step();
                    check();
                }
                finish();
                ok = true;
            } finally {
                if (!ok) {
                    System.err.println("cpu tier model: " + capacityPages + " pages of " + pageBytes + " bytes, budget "
                            + budgetBytes + "; steps:\n  " + String.join("\n  ", trace));
                    readers.forEach(r -> r.buffer().close());
                    reservations.forEach(r -> r.page().release());
                    tier.close();
                }
            }
        }

        void step() {
            int k = gen.between(0, keyCount - 1);
            ChunkKey key = keys[k];
            int op = gen.between(0, 99);
            if (op < 18) {
                byte[] bytes = payload();
                trace.add("put " + k + " (" + bytes.length + " bytes)");
                boolean stored = chunks.containsKey(k);
                boolean actual = tier.put(key, MemorySegment.ofArray(bytes)); // first: it checks its evictions against the model
                assertEquals(stored || place(k, bytes, Set.of()), actual, "put " + k);
            } else if (op < 20) {
                byte[] bytes = new byte[(int) pageBytes + gen.between(1, 100)];
                trace.add("put " + k + " too large (" + bytes.length + " bytes)");
                if (!chunks.containsKey(k)) { // a stored key is reported stored whatever the payload
                    assertThrows(IllegalArgumentException.class, () -> tier.put(key, MemorySegment.ofArray(bytes)));
                }
            } else if (op < 28) {
                byte[] bytes = payload();
                keep = randomStoredKeys();
                trace.add("reserve " + bytes.length + " bytes keeping " + keep);
                Set<ChunkKey> keepKeys = new HashSet<>();
                keep.forEach(i -> keepKeys.add(keys[i]));
                Optional<ChunkPage> page = tier.reserve(bytes.length, keepKeys);
                Page model = allocate(keep);
                keep = Set.of();
                assertEquals(model != null, page.isPresent(), "reserve");
                if (page.isPresent()) {
                    assertEquals(1, page.get().references(), "a reserved page holds one reference");
                    MemorySegment.copy(MemorySegment.ofArray(bytes), 0, page.get().memory(), 0, bytes.length);
                    reservations.add(new Reservation(page.get(), model, bytes));
                }
            } else if (op < 29) {
                long bytes = gen.chance(0.5) ? -gen.between(1, 10) : pageBytes + gen.between(1, 10);
                trace.add("reserve " + bytes + " bytes (invalid)");
                assertThrows(IllegalArgumentException.class, () -> tier.reserve(bytes, Set.of()));
            } else if (op < 37 && !reservations.isEmpty()) {
                Reservation r = reservations.remove(gen.between(0, reservations.size() - 1));
                trace.add("commit " + k + " (" + r.bytes().length + " bytes)");
                boolean expected = !chunks.containsKey(k);
                if (expected) {
                    chunks.put(k, new Chunk(r.bytes(), r.model()));
                }
                assertEquals(expected, tier.commit(key, r.page(), r.bytes().length), "commit " + k);
            } else if (op < 39 && !reservations.isEmpty()) {
                Reservation r = reservations.remove(gen.between(0, reservations.size() - 1));
                trace.add("abandon a reservation");
                r.page().release();
            } else if (op < 54) {
                trace.add("get " + k);
                Optional<ChunkBuffer> got = tier.get(key);
                Chunk c = use(k);
                assertEquals(c != null, got.isPresent(), "get " + k);
                if (c != null) {
                    assertEquals(key, got.get().key());
                    assertEquals(c.bytes.length, got.get().sizeBytes());
                    readers.add(new Reader(got.get(), k, c.bytes, c.page));
                }
            } else if (op < 66 && !readers.isEmpty()) {
                Reader r = readers.remove(gen.between(0, readers.size() - 1));
                trace.add("close a reader of " + r.key());
                assertArrayEquals(r.expected(), r.buffer().segment().toArray(ValueLayout.JAVA_BYTE));
                r.buffer().close();
                if (gen.chance(0.2)) {
                    r.buffer().close(); // idempotent
                }
                assertThrows(IllegalStateException.class, () -> r.buffer().segment());
            } else if (op < 72) {
                trace.add("remove " + k);
                assertEquals(chunks.remove(k) != null, tier.remove(key), "remove " + k);
            } else if (op < 80) {
                long timeout = gen.between(0, 100);
                trace.add("pin " + k + " for " + timeout + " ns");
                Chunk c = use(k);
                if (c != null) {
                    if (!c.pinned(now)) {
                        c.pins = 0;
                        c.deadlines.clear();
                    }
                    c.pins++;
                    c.deadlines.add(now + timeout);
                }
                assertEquals(c != null, tier.pin(key, Duration.ofNanos(timeout)), "pin " + k);
            } else if (op < 85) {
                trace.add("unpin " + k);
                Chunk c = use(k);
                if (c != null && c.pins > 0) {
                    c.pins--;
                }
                tier.unpin(key);
            } else if (op < 89) {
                trace.add("touch " + k);
                use(k);
                tier.touch(key);
            } else if (op < 91) {
                trace.add("clear");
                chunks.clear();
                tier.clear();
            } else {
                long dt = gen.between(0, 60);
                trace.add("clock +" + dt);
                now += dt;
            }
        }

        /** Compares the tier with the model. */
        void check() {
            int pagesOut = modelPagesOut();
            assertEquals(pagesOut, tier.outstandingPages(), "pages out");
            assertTrue(tier.usedBytes() <= budgetBytes, "used " + tier.usedBytes() + " of " + budgetBytes);
            assertEquals(pagesOut * pageBytes, tier.usedBytes(), "used bytes");
            assertEquals(chunks.size(), tier.stats().chunks(), "chunks");
            assertTrue(tier.stats().usedBytes() <= tier.stats().capacityBytes(), "stats within budget");
            for (int i = 0; i < keyCount; i++) {
                assertEquals(chunks.containsKey(i), tier.contains(keys[i]), "contains " + i);
            }
            assertEquals(keysOf(modelEvictions), keysOf(tierEvictions), "evicted chunks, in order");
            for (int i = 0; i < modelEvictions.size(); i++) {
                assertArrayEquals(modelEvictions.get(i).bytes(), tierEvictions.get(i).bytes(), "bytes of evicted chunk " + i);
            }
            assertEquals(modelEvictions.size(), tier.evictions(), "eviction count");
            for (Reader r : readers) {
                assertArrayEquals(r.expected(), r.buffer().segment().toArray(ValueLayout.JAVA_BYTE), "held chunk " + r.key());
            }
        }

        /** Ends the run: either release everything then clear and close, or close first with holders left. */
        void finish() {
            if (gen.chance(0.5)) {
                readers.forEach(r -> r.buffer().close());
                reservations.forEach(r -> r.page().release());
                readers.clear();
                reservations.clear();
                tier.clear();
                chunks.clear();
                assertEquals(0, tier.outstandingPages(), "pages out after clear with no holder");
                tier.close();
            } else {
                chunks.clear();
                tier.close();
                assertEquals(modelPagesOut(), tier.outstandingPages(), "after close only the holders' pages are out");
                for (Reader r : readers) {
                    // the memory is unmapped: a late read fails cleanly, it never reads freed memory
                    assertTrue(!r.buffer().segment().scope().isAlive(), "a held chunk's memory after close");
                    if (r.expected().length > 0) {
                        assertThrows(IllegalStateException.class, () -> r.buffer().segment().get(ValueLayout.JAVA_BYTE, 0));
                    }
                    r.buffer().close();
                }
                reservations.forEach(r -> r.page().release());
                readers.clear();
                reservations.clear();
            }
            assertEquals(0, tier.outstandingPages(), "pages out after close");
            tier.close(); // idempotent
            assertThrows(IllegalStateException.class, () -> tier.get(keys[0]));
            assertThrows(IllegalStateException.class, () -> tier.put(keys[0], MemorySegment.ofArray(new byte[1])));
        }

        // ---- model operations

        /** Stores a new chunk in the model if a page can be had; false if not. */
        boolean place(int k, byte[] bytes, Set<Integer> kept) {
            Page page = allocate(kept);
            if (page == null) {
                return false;
            }
            chunks.put(k, new Chunk(bytes, page));
            return true;
        }

        /** A new page: a free one, or one freed by evicting the least recently used evictable chunk; null if none. */
        Page allocate(Set<Integer> kept) {
            if (modelPagesOut() < capacityPages) {
                return new Page();
            }
            for (Map.Entry<Integer, Chunk> e : chunks.entrySet()) {
                int k = e.getKey();
                Chunk c = e.getValue();
                if (!c.pinned(now) && !isRead(c.page) && !kept.contains(k)) {
                    chunks.remove(k);
                    modelEvictions.add(new Evicted(k, c.bytes));
                    return new Page();
                }
            }
            return null;
        }

        /** Marks a stored chunk most recently used; its model, or null when absent. */
        Chunk use(int k) {
            Chunk c = chunks.remove(k);
            if (c != null) {
                chunks.put(k, c);
            }
            return c;
        }

        boolean isRead(Page page) {
            return readers.stream().anyMatch(r -> r.page() == page);
        }

        int modelPagesOut() {
            Set<Page> out = Collections.newSetFromMap(new IdentityHashMap<>());
            chunks.values().forEach(c -> out.add(c.page));
            readers.forEach(r -> out.add(r.page()));
            reservations.forEach(r -> out.add(r.model()));
            return out.size();
        }

        /** Called by the tier, before the model has done the step: the victim must be evictable now. */
        void onEvicted(ChunkKey key, int copies, java.util.function.Supplier<org.lmcache4j.api.spi.ChunkBuffer> hold) {
            byte[] bytes;
            try (org.lmcache4j.api.spi.ChunkBuffer held = hold.get()) {
                bytes = held.segment().toArray(ValueLayout.JAVA_BYTE);
            }
            int k = keyIndex.get(key);
            Chunk c = chunks.get(k);
            assertTrue(c != null, "evicted " + k + ", which the model does not hold");
            assertTrue(!c.pinned(now), "evicted " + k + " while pinned");
            assertTrue(!isRead(c.page), "evicted " + k + " while read");
            assertTrue(!keep.contains(k), "evicted " + k + " which the reservation keeps");
            tierEvictions.add(new Evicted(k, bytes));
        }

        Set<Integer> randomStoredKeys() {
            Set<Integer> s = new HashSet<>();
            for (int k : chunks.keySet()) {
                if (gen.chance(0.3)) {
                    s.add(k);
                }
            }
            return s;
        }

        byte[] payload() {
            int n = gen.chance(0.2) ? gen.oneOf(0, (int) pageBytes, (int) chunkBytes) : gen.between(0, (int) pageBytes);
            return gen.bytes(n);
        }

        static List<Integer> keysOf(List<Evicted> evicted) {
            return evicted.stream().map(Evicted::key).toList();
        }
    }
}
