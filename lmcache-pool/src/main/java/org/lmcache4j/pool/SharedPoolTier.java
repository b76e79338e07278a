package org.lmcache4j.pool;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;

/**
 * The node-shared pool as a tier: chunks live in a file in shared memory that every engine JVM of the node maps,
 * so a chunk one engine stored is a hit for the others, held once. Bulk bytes are copied straight between the
 * mapping and the caller's memory; the coordinator only hands out slots:
 *
 * <ul>
 *   <li>put: ALLOCATE a slot, copy the chunk in, write its key and length, check the slot is still ours, COMMIT.</li>
 *   <li>get: ACQUIRE (the slot is held: not evicted or reused until RELEASE, the connection's end or the lease),
 *       check the state word names the generation handed out and the header the key, then a view of the payload;
 *       closing the buffer releases it. readInto copies and checks the state word again before it counts.</li>
 *   <li>getAll: ACQUIRE_ALL, the same for many keys in one round trip (a retrieve holds the rest of its prompt
 *       at once); closeAll releases such buffers together with this tier's next request, or on a flush of their own
 *       when there is none ({@link PendingReleases}).</li>
 * </ul>
 *
 * A dead coordinator makes every call a miss (or a refused put), never an error; the connection comes back with
 * the next coordinator. {@link #servesInPlace()}: hits are copied from the mapping into engine memory directly.
 * {@link #prefersBatches()}: a retrieve costs the engine one round trip to the coordinator, whatever its length
 * (docs/PERFORMANCE.md, "The node-shared pool").
 */
final class SharedPoolTier implements StorageTier {

    static final String NAME = "pool";

    private final PoolConnection connection;
    private final long capacityBytes;
    private final AtomicLong errors = new AtomicLong();
    private final PendingReleases releases = new PendingReleases();
    private final Thread releaseFlusher;
    private volatile boolean closed;

    SharedPoolTier(PoolConnection connection, long capacityBytes) {
        this.connection = connection;
        this.capacityBytes = capacityBytes;
        this.releaseFlusher = Thread.ofPlatform().daemon().name("lmcache-pool-releases").start(this::flushReleases);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Waits until the pool's pages are mapped into this process: a second engine's first hit then faults none. */
    @Override
    public boolean awaitReady(Duration timeout) {
        return connection.awaitMapped(timeout);
    }

    /** True when the pool's pages are all mapped into this process: {@link #awaitReady} returns true once they are. */
    boolean mapped() {
        return connection.mapped();
    }

    @Override
    public boolean servesInPlace() {
        return true;
    }

    @Override
    public boolean contains(ChunkKey key) {
        return containsAll(List.of(key))[0];
    }

    @Override
    public boolean[] containsAll(List<ChunkKey> keys) {
        boolean[] found = new boolean[keys.size()];
        for (int from = 0; from < keys.size(); from += PoolProtocol.MAX_KEYS) {
            List<ChunkKey> part = keys.subList(from, Math.min(keys.size(), from + PoolProtocol.MAX_KEYS));
            int at = from;
            call((in, out) -> {
                out.writeInt(PoolProtocol.LOOKUP);
                out.writeInt(part.size());
                for (ChunkKey k : part) {
                    PoolProtocol.writeKey(out, k);
                }
                out.flush();
                for (int i = 0; i < part.size(); i++) {
                    found[at + i] = in.readBoolean();
                }
                return null;
            }, null);
        }
        return found;
    }

    /** A held slot: its number, generation, the mapping and the connection it was taken under. */
    private record Hold(int slot, long generation, PoolFile file, long epoch) {
    }

    /** The coordinator's answers to one acquiring request, with the mapping and connection they were given under. */
    private record Answers(long[] slotsAndGenerations, PoolFile file, long epoch) {
    }

    private Optional<Hold> acquire(ChunkKey key) {
        Answers a = call((in, out) -> {
            out.writeInt(PoolProtocol.ACQUIRE);
            PoolProtocol.writeKey(out, key);
            out.flush();
            return new Answers(new long[] {in.readInt(), in.readLong()}, connection.file(), connection.epoch());
        }, null);
        return a == null ? Optional.empty() : checked(key, a.slotsAndGenerations()[0], a.slotsAndGenerations()[1], a.file(), a.epoch());
    }

    /** The hold the coordinator answered for {@code key} ({@code slot} negative: a miss), checked against the file. */
    private Optional<Hold> checked(ChunkKey key, long slot, long generation, PoolFile file, long epoch) {
        if (slot < 0) {
            return Optional.empty();
        }
        Hold h = new Hold((int) slot, generation, file, epoch);
        if (file == null || slot >= file.slotCount() || file.state(h.slot()) != PoolFile.word(generation, PoolFile.READY)
                || !file.holdsKey(h.slot(), key)) {
            release(h); // another coordinator's pool under the same name, or a damaged header: a miss
            errors.incrementAndGet();
            return Optional.empty();
        }
        return Optional.of(h);
    }

    private void release(Hold h) {
        call((in, out) -> {
            if (connection.epoch() == h.epoch()) { // else taken from a coordinator that is gone: nothing to release
                out.writeInt(PoolProtocol.RELEASE);
                out.writeInt(h.slot());
                out.writeLong(h.generation());
            }
            return null; // one way
        }, null);
    }

    /**
     * A request to the coordinator, preceded by the releases pending ({@link PendingReleases}): they ride along in
     * the same write.
     */
    private <T> T call(PoolConnection.Call<T> request, T onFailure) {
        return connection.call((in, out) -> {
            releases.writeTo(out, connection.epoch());
            return request.run(in, out);
        }, onFailure);
    }

    /**
     * Sends the pending releases when no request has carried them: every {@link PendingReleases#FLUSH_MILLIS} while
     * this engine released chunks in the last second, every {@link PendingReleases#IDLE_FLUSH_MILLIS} after that (an
     * idle engine's flusher wakes 10 times a second, not 200).
     */
    private void flushReleases() {
        long busyUntil = 0;
        while (!closed) {
            try {
                Thread.sleep(System.nanoTime() - busyUntil < 0 ? PendingReleases.FLUSH_MILLIS : PendingReleases.IDLE_FLUSH_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            if (!releases.isEmpty()) {
                busyUntil = System.nanoTime() + 1_000_000_000L;
                if (!call((in, out) -> true, false)) {
                    releases.clear(); // no connection: the coordinator ended its holds when it ended
                }
            }
        }
    }

    /**
     * Releases the holds of this tier's buffers among {@code buffers} together, with this engine's next request or
     * a flush of their own ({@link PendingReleases}); other buffers are closed one by one.
     */
    @Override
    public void closeAll(List<ChunkBuffer> buffers) {
        List<Hold> holds = new ArrayList<>(buffers.size());
        List<ChunkBuffer> others = new ArrayList<>();
        for (ChunkBuffer b : buffers) {
            if (b instanceof Held held && held.tier() == this) {
                if (held.markClosed()) {
                    holds.add(held.hold);
                }
            } else {
                others.add(b);
            }
        }
        for (Hold h : holds) {
            releases.add(h.slot(), h.generation(), h.epoch());
        }
        StorageTier.super.closeAll(others);
    }

    private boolean stillReady(Hold h) {
        return h.file().state(h.slot()) == PoolFile.word(h.generation(), PoolFile.READY);
    }

    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        return acquire(key).map(h -> buffer(key, h));
    }

    /** One round trip for the lot (ACQUIRE_ALL), so a retrieve of many chunks waits on the coordinator once. */
    @Override
    public List<Optional<ChunkBuffer>> getAll(List<ChunkKey> keys) {
        List<Optional<ChunkBuffer>> out = new ArrayList<>(keys.size());
        for (int from = 0; from < keys.size(); from += PoolProtocol.MAX_KEYS) {
            List<ChunkKey> part = keys.subList(from, Math.min(keys.size(), from + PoolProtocol.MAX_KEYS));
            Answers a = call((in, o) -> {
                o.writeInt(PoolProtocol.ACQUIRE_ALL);
                o.writeInt(part.size());
                for (ChunkKey k : part) {
                    PoolProtocol.writeKey(o, k);
                }
                o.flush();
                long[] answers = new long[2 * part.size()];
                for (int i = 0; i < part.size(); i++) {
                    answers[2 * i] = in.readInt();
                    answers[2 * i + 1] = in.readLong();
                }
                return new Answers(answers, connection.file(), connection.epoch());
            }, null);
            for (int i = 0; i < part.size(); i++) {
                ChunkKey k = part.get(i);
                long[] got = a == null ? null : a.slotsAndGenerations();
                out.add(got == null ? Optional.empty() : checked(k, got[2 * i], got[2 * i + 1], a.file(), a.epoch()).map(h -> buffer(k, h)));
            }
        }
        return out;
    }

    /** True: {@link #getAll} holds many chunks in one round trip. */
    @Override
    public boolean prefersBatches() {
        return true;
    }

    private ChunkBuffer buffer(ChunkKey key, Hold h) {
        return new Held(key, h);
    }

    /** A chunk held for reading: a read-only view of its payload in the mapping; closing it releases the hold. */
    private final class Held implements ChunkBuffer {
        private final ChunkKey key;
        private final Hold hold;
        private final MemorySegment bytes;
        private boolean closed;

        Held(ChunkKey key, Hold hold) {
            this.key = key;
            this.hold = hold;
            this.bytes = hold.file().payload(hold.slot()).asSlice(0, hold.file().length(hold.slot())).asReadOnly();
        }

        SharedPoolTier tier() {
            return SharedPoolTier.this;
        }

        @Override
        public ChunkKey key() {
            return key;
        }

        @Override
        public MemorySegment segment() {
            return bytes;
        }

        /** False once the coordinator ended the hold (its lease passed) and the slot was taken for other bytes. */
        @Override
        public boolean intact() {
            return stillReady(hold);
        }

        /** Marks it closed: true the first time, when the caller is to release the hold. */
        synchronized boolean markClosed() {
            if (closed) {
                return false;
            }
            closed = true;
            if (!stillReady(hold)) {
                errors.incrementAndGet(); // held past the lease and reused: should never happen in a live engine
            }
            return true;
        }

        @Override
        public void close() {
            if (markClosed()) {
                release(hold);
            }
        }
    }

    @Override
    public long readInto(ChunkKey key, MemorySegment target) {
        Optional<Hold> held = acquire(key);
        if (held.isEmpty()) {
            return -1;
        }
        Hold h = held.get();
        try {
            long n = h.file().length(h.slot());
            if (n > target.byteSize()) {
                throw new IllegalArgumentException("chunk " + key + ": " + n + " bytes (expected: at most " + target.byteSize()
                        + ", the target's size)");
            }
            MemorySegment.copy(h.file().payload(h.slot()), 0, target, 0, n);
            return stillReady(h) ? n : -1;
        } finally {
            release(h);
        }
    }

    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        long[] got = call((in, out) -> {
            out.writeInt(PoolProtocol.ALLOCATE);
            PoolProtocol.writeKey(out, key);
            out.writeLong(payload.byteSize());
            out.flush();
            return new long[] {in.readInt(), in.readLong()};
        }, new long[] {PoolProtocol.FULL, 0});
        if (got[0] == PoolProtocol.EXISTS) {
            return true;
        }
        if (got[0] == PoolProtocol.TOO_LARGE) {
            throw new IllegalArgumentException("chunk " + key + ": " + payload.byteSize() + " bytes (expected: at most the pool's slot of "
                    + connection.file().slotBytes() + ")");
        }
        if (got[0] < 0) {
            return false;
        }
        int slot = (int) got[0];
        long gen = got[1];
        PoolFile f = connection.file();
        long epoch = connection.epoch();
        MemorySegment.copy(payload, 0, f.payload(slot), 0, payload.byteSize());
        f.writeHeader(slot, key, payload.byteSize());
        if (f.state(slot) != PoolFile.word(gen, PoolFile.WRITING) || connection.epoch() != epoch) {
            // the allocation ended while we wrote (lease, or a new coordinator): whatever the slot holds now is suspect
            call((in, out) -> {
                out.writeInt(PoolProtocol.INVALIDATE);
                out.writeInt(slot);
                out.flush();
                in.readByte();
                return null;
            }, null);
            return false;
        }
        return call((in, out) -> {
            out.writeInt(PoolProtocol.COMMIT);
            out.writeInt(slot);
            out.writeLong(gen);
            out.flush();
            return in.readBoolean();
        }, false) || contains(key);
    }

    @Override
    public boolean remove(ChunkKey key) {
        return call((in, out) -> {
            out.writeInt(PoolProtocol.REMOVE);
            PoolProtocol.writeKey(out, key);
            out.flush();
            return in.readBoolean();
        }, false);
    }

    @Override
    public boolean pin(ChunkKey key, Duration timeout) {
        return call((in, out) -> {
            out.writeInt(PoolProtocol.PIN);
            PoolProtocol.writeKey(out, key);
            out.writeLong(Math.max(0, timeout.toMillis()));
            out.flush();
            return in.readBoolean();
        }, false);
    }

    @Override
    public void unpin(ChunkKey key) {
        call((in, out) -> {
            out.writeInt(PoolProtocol.UNPIN);
            PoolProtocol.writeKey(out, key);
            out.flush();
            in.readByte();
            return null;
        }, null);
    }

    @Override
    public void clear() {
        call((in, out) -> {
            out.writeInt(PoolProtocol.CLEAR);
            out.flush();
            in.readByte();
            return null;
        }, null);
    }

    /** The coordinator's consistency check of this pool: its problems, empty when consistent (or unreachable: null). */
    List<String> fsck() {
        return call((in, out) -> {
            out.writeInt(PoolProtocol.FSCK);
            out.flush();
            int n = in.readInt();
            List<String> problems = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                problems.add(in.readUTF());
            }
            return problems;
        }, null);
    }

    /** Slots some engine holds for reading now, as the coordinator counts them; -1 when it is unreachable. */
    int heldSlots() {
        long[] s = coordinatorStats();
        return s == null ? -1 : (int) s[4];
    }

    /** The coordinator's STATS answer: ready slots, writing slots, slot count, slot bytes, held slots; null when unreachable. */
    private long[] coordinatorStats() {
        return call((in, out) -> {
            out.writeInt(PoolProtocol.STATS);
            out.flush();
            return new long[] {in.readInt(), in.readInt(), in.readInt(), in.readLong(), in.readInt()};
        }, null);
    }

    @Override
    public TierStats stats() {
        long[] s = coordinatorStats();
        if (s == null) {
            return new TierStats(NAME, 0, 0, capacityBytes, errors.get(), false, 0);
        }
        return new TierStats(NAME, s[0], (s[0] + s[1]) * s[3], s[2] * s[3], errors.get(), true, 0);
    }

    @Override
    public void close() {
        closed = true;
        releaseFlusher.interrupt(); // the releases pending end with the connection: the coordinator drops its holds
        try {
            connection.close();
        } catch (IOException e) {
            errors.incrementAndGet();
        }
    }
}
