package org.lmcache4j.pool;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lmcache4j.api.ChunkKey;

/**
 * The coordinator's view of one pool: each slot's state, generation, key, writer and readers, the index of ready
 * chunks in recency order, the free list, eviction pins. Every transition writes the slot's state word in the
 * pool file (the only writer of it), so engines can validate what they copied:
 *
 * <pre>
 * FREE --allocate--> WRITING(gen+1, owner) --commit--> READY --evict/remove, no reader--> FREE(gen+1)
 *                           \--abort, owner gone, lease over--> FREE(gen+1)
 * </pre>
 *
 * A slot a client holds for reading is never evicted or reused while held; a client's holds, writes and pins end
 * when its connection does (it died) or when the lease passes (it hangs). No count lives in shared memory, so a
 * kill -9 leaks nothing. Not thread-safe: the coordinator calls it under one lock per pool.
 */
final class SlotTable {

    /** The client id of slots left WRITING by a coordinator that is gone: reclaimed after the lease. */
    static final int ORPHAN = -1;

    private final PoolFile file;
    private final long leaseNanos;
    private final long[] generation;
    private final int[] state;
    private final ChunkKey[] keys;
    private final int[] writer;
    private final long[] since; // when WRITING began (or, for an orphan, when it was found)
    private final int[] readers;
    private final boolean[] removed; // READY, dropped from the index, freed when its last reader leaves
    private final Map<Integer, Map<Integer, ArrayDeque<Long>>> holds = new HashMap<>(); // client -> slot -> acquire times
    private final Map<Integer, Map<ChunkKey, Integer>> pinsByClient = new HashMap<>();
    private final Map<ChunkKey, long[]> pins = new HashMap<>(); // key -> {count, deadline}
    private final LinkedHashMap<ChunkKey, Integer> index = new LinkedHashMap<>(16, 0.75f, true);
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private long hits;
    private long misses;
    private long commits;
    private long evictions;

    /**
     * Takes over {@code file} as it is: READY slots are indexed again (a chunk twice: the later slot freed), FREE
     * ones listed. WRITING ones belong to writers of a coordinator that is gone: freed at once when
     * {@code nobodyAttached}, else kept as orphans until the lease has passed (a live writer may still be copying).
     */
    SlotTable(PoolFile file, long leaseNanos, boolean nobodyAttached, long now) {
        this.file = file;
        this.leaseNanos = leaseNanos;
        int n = file.slotCount();
        generation = new long[n];
        state = new int[n];
        keys = new ChunkKey[n];
        writer = new int[n];
        since = new long[n];
        readers = new int[n];
        removed = new boolean[n];
        for (int s = 0; s < n; s++) {
            long word = file.state(s);
            generation[s] = PoolFile.generation(word);
            int st = PoolFile.stateOf(word);
            ChunkKey key = st == PoolFile.READY ? file.key(s) : null;
            if (st == PoolFile.READY && key != null && !index.containsKey(key) && file.length(s) <= file.slotBytes()) {
                state[s] = PoolFile.READY;
                keys[s] = key;
                index.put(key, s);
            } else if (st == PoolFile.WRITING && !nobodyAttached) {
                state[s] = PoolFile.WRITING;
                writer[s] = ORPHAN;
                since[s] = now;
            } else {
                toFree(s);
            }
        }
    }

    long slotBytes() {
        return file.slotBytes();
    }

    int slotCount() {
        return file.slotCount();
    }

    private void toFree(int s) {
        generation[s]++;
        state[s] = PoolFile.FREE;
        keys[s] = null;
        writer[s] = 0;
        removed[s] = false;
        file.setState(s, PoolFile.word(generation[s], PoolFile.FREE));
        free.add(s);
    }

    boolean contains(ChunkKey key) {
        return index.containsKey(key);
    }

    /** Holds the chunk of {@code key} for {@code client}: {slot, generation}, or null on a miss. */
    long[] acquire(int client, ChunkKey key, long now) {
        Integer s = index.get(key); // marks it recently used
        if (s == null) {
            misses++;
            return null;
        }
        hits++;
        readers[s]++;
        holds.computeIfAbsent(client, c -> new HashMap<>()).computeIfAbsent(s, x -> new ArrayDeque<>()).add(now);
        return new long[] {s, generation[s]};
    }

    void release(int client, int slot, long gen) {
        Map<Integer, ArrayDeque<Long>> mine = holds.get(client);
        ArrayDeque<Long> times = mine == null ? null : mine.get(slot);
        if (times == null || times.isEmpty() || generation[slot] != gen) {
            return; // the lease ended it already
        }
        times.poll();
        if (times.isEmpty()) {
            mine.remove(slot);
        }
        dropReader(slot);
    }

    private void dropReader(int s) {
        readers[s]--;
        if (readers[s] == 0 && removed[s]) {
            toFree(s);
        }
    }

    /** A slot for {@code client} to write a chunk of {@code length} into: {slot, generation}, or {code} of PoolProtocol. */
    long[] allocate(int client, ChunkKey key, long length, long now) {
        if (length > file.slotBytes() || length < 0) {
            return new long[] {PoolProtocol.TOO_LARGE, 0};
        }
        if (index.containsKey(key)) {
            return new long[] {PoolProtocol.EXISTS, 0};
        }
        Integer s = free.poll();
        if (s == null) {
            s = evictOne(now);
        }
        if (s == null) {
            return new long[] {PoolProtocol.FULL, 0};
        }
        generation[s]++;
        state[s] = PoolFile.WRITING;
        writer[s] = client;
        since[s] = now;
        file.setState(s, PoolFile.word(generation[s], PoolFile.WRITING));
        return new long[] {s, generation[s]};
    }

    /** The least recently used chunk nobody reads or pins, freed and taken off the free list; null when none. */
    private Integer evictOne(long now) {
        for (Iterator<Map.Entry<ChunkKey, Integer>> it = index.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<ChunkKey, Integer> e = it.next();
            int s = e.getValue();
            if (readers[s] == 0 && !pinned(e.getKey(), now)) {
                evictions++;
                it.remove();
                toFree(s);
                free.remove(s);
                return s;
            }
        }
        return null;
    }

    private boolean pinned(ChunkKey key, long now) {
        long[] p = pins.get(key);
        return p != null && p[0] > 0 && now - p[1] < 0;
    }

    /** READY and indexed when {@code client} still owns the write and the header names a key not indexed meanwhile. */
    boolean commit(int client, int slot, long gen) {
        if (!writing(client, slot, gen)) {
            return false;
        }
        ChunkKey key = file.key(slot);
        if (key == null || index.containsKey(key) || file.length(slot) > file.slotBytes() || file.length(slot) < 0) {
            toFree(slot);
            return false;
        }
        state[slot] = PoolFile.READY;
        keys[slot] = key;
        writer[slot] = 0;
        file.setState(slot, PoolFile.word(gen, PoolFile.READY));
        index.put(key, slot);
        commits++;
        return true;
    }

    void abort(int client, int slot, long gen) {
        if (writing(client, slot, gen)) {
            toFree(slot);
        }
    }

    private boolean writing(int client, int slot, long gen) {
        return slot >= 0 && slot < state.length && state[slot] == PoolFile.WRITING && writer[slot] == client && generation[slot] == gen;
    }

    /** A writer's allocation was revoked while it wrote: what the slot holds now may be damaged, so it is dropped. */
    void invalidate(int slot) {
        if (slot < 0 || slot >= state.length) {
            return;
        }
        if (state[slot] == PoolFile.READY && !removed[slot]) {
            index.remove(keys[slot]);
            dropPins(keys[slot]);
            if (readers[slot] == 0) {
                toFree(slot);
            } else {
                removed[slot] = true;
            }
        } else if (state[slot] == PoolFile.WRITING) {
            toFree(slot);
        }
    }

    boolean remove(ChunkKey key) {
        Integer s = index.remove(key);
        if (s == null) {
            return false;
        }
        dropPins(key);
        if (readers[s] == 0) {
            toFree(s);
        } else {
            removed[s] = true;
        }
        return true;
    }

    void clear() {
        for (ChunkKey k : new ArrayList<>(index.keySet())) {
            remove(k);
        }
    }

    /** A key left the index: its pins end with it (a later put of the same key is not pinned by them). */
    private void dropPins(ChunkKey key) {
        if (pins.remove(key) != null) {
            pinsByClient.values().forEach(mine -> mine.remove(key));
        }
    }

    boolean pin(int client, ChunkKey key, long millis, long now) {
        if (!index.containsKey(key)) {
            return false;
        }
        long[] p = pins.computeIfAbsent(key, k -> new long[] {0, now});
        p[0]++;
        long deadline = now + millis * 1_000_000;
        p[1] = now - p[1] > 0 || deadline - p[1] > 0 ? deadline : p[1];
        pinsByClient.computeIfAbsent(client, c -> new HashMap<>()).merge(key, 1, Integer::sum);
        return true;
    }

    void unpin(int client, ChunkKey key) {
        Map<ChunkKey, Integer> mine = pinsByClient.get(client);
        Integer n = mine == null ? null : mine.get(key);
        if (n == null) {
            return;
        }
        if (n == 1) {
            mine.remove(key);
        } else {
            mine.put(key, n - 1);
        }
        long[] p = pins.get(key);
        if (p != null && --p[0] <= 0) {
            pins.remove(key);
        }
    }

    /** Everything {@code client} held, wrote and pinned ends: its connection closed (it exited or was killed). */
    void clientGone(int client) {
        Map<Integer, ArrayDeque<Long>> mine = holds.remove(client);
        if (mine != null) {
            mine.forEach((s, times) -> {
                for (int i = 0; i < times.size(); i++) {
                    dropReader(s);
                }
            });
        }
        for (int s = 0; s < state.length; s++) {
            if (state[s] == PoolFile.WRITING && writer[s] == client) {
                toFree(s);
            }
        }
        Map<ChunkKey, Integer> pinned = pinsByClient.remove(client);
        if (pinned != null) {
            pinned.forEach((key, n) -> {
                long[] p = pins.get(key);
                if (p != null && (p[0] -= n) <= 0) {
                    pins.remove(key);
                }
            });
        }
    }

    /** Ends holds and writes older than the lease (a client that hangs), and orphans older than it. */
    void expireLeases(long now) {
        for (Map.Entry<Integer, Map<Integer, ArrayDeque<Long>>> c : holds.entrySet()) {
            for (Iterator<Map.Entry<Integer, ArrayDeque<Long>>> it = c.getValue().entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Integer, ArrayDeque<Long>> e = it.next();
                while (!e.getValue().isEmpty() && now - e.getValue().peek() > leaseNanos) {
                    e.getValue().poll();
                    dropReader(e.getKey());
                }
                if (e.getValue().isEmpty()) {
                    it.remove();
                }
            }
        }
        for (int s = 0; s < state.length; s++) {
            if (state[s] == PoolFile.WRITING && now - since[s] > leaseNanos) {
                toFree(s);
            }
        }
    }

    /** Since this table took the pool over: chunks handed to readers (hits), keys asked for and absent, chunks stored, chunks evicted. */
    long[] activity() {
        return new long[] {hits, misses, commits, evictions};
    }

    /** Ready chunks, slots being written, slots held by readers. */
    int[] counts() {
        int ready = 0;
        int writingSlots = 0;
        int held = 0;
        for (int s = 0; s < state.length; s++) {
            ready += state[s] == PoolFile.READY && !removed[s] ? 1 : 0;
            writingSlots += state[s] == PoolFile.WRITING ? 1 : 0;
            held += readers[s] > 0 ? 1 : 0;
        }
        return new int[] {ready, writingSlots, held};
    }

    /**
     * What is inconsistent, given the clients connected now: every slot FREE, READY or WRITING by a live client (or an
     * orphan younger than the lease); its state word in the file as recorded here; every index entry a READY slot
     * whose header names the same key; every READY slot indexed (or removed and still read); the free list exactly
     * the FREE slots; reader counts equal to the live clients' holds. Empty when consistent.
     */
    List<String> fsck(java.util.Set<Integer> liveClients, long now) {
        List<String> problems = new ArrayList<>();
        Map<ChunkKey, Integer> indexed = new HashMap<>(index); // reading the access-ordered index would reorder it
        int[] held = new int[state.length];
        holds.forEach((c, slots) -> {
            if (!liveClients.contains(c)) {
                problems.add("client " + c + " is gone but holds " + slots.keySet());
            }
            slots.forEach((s, times) -> held[s] += times.size());
        });
        java.util.Set<Integer> freeSet = new java.util.HashSet<>(free);
        if (freeSet.size() != free.size()) {
            problems.add("the free list repeats a slot");
        }
        for (int s = 0; s < state.length; s++) {
            long word = file.state(s);
            if (word != PoolFile.word(generation[s], state[s])) {
                problems.add("slot " + s + ": state word " + Long.toHexString(word) + " in the file, "
                        + Long.toHexString(PoolFile.word(generation[s], state[s])) + " recorded");
            }
            if (readers[s] != held[s]) {
                problems.add("slot " + s + ": " + readers[s] + " readers counted, " + held[s] + " held by clients");
            }
            switch (state[s]) {
                case PoolFile.FREE -> {
                    if (!freeSet.contains(s)) {
                        problems.add("slot " + s + ": FREE but not on the free list (leaked)");
                    }
                }
                case PoolFile.WRITING -> {
                    boolean live = writer[s] == ORPHAN ? now - since[s] <= leaseNanos : liveClients.contains(writer[s]);
                    if (!live) {
                        problems.add("slot " + s + ": WRITING by client " + writer[s] + ", which is gone (leaked)");
                    }
                    if (freeSet.contains(s)) {
                        problems.add("slot " + s + ": WRITING and on the free list");
                    }
                }
                case PoolFile.READY -> {
                    Integer at = keys[s] == null ? null : indexed.get(keys[s]);
                    if (removed[s] ? readers[s] == 0 : at == null || at != s) {
                        problems.add("slot " + s + ": READY but " + (removed[s] ? "removed with no reader" : "not indexed") + " (leaked)");
                    }
                    if (freeSet.contains(s)) {
                        problems.add("slot " + s + ": READY and on the free list");
                    }
                }
                default -> problems.add("slot " + s + ": unknown state " + state[s]);
            }
        }
        indexed.forEach((key, s) -> {
            if (state[s] != PoolFile.READY || !file.holdsKey(s, key) || !key.equals(keys[s])) {
                problems.add("index entry " + key + " -> slot " + s + ", which is " + state[s] + " with another key");
            }
        });
        return problems;
    }
}
