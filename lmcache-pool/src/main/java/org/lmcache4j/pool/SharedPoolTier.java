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
 * </ul>
 *
 * A dead coordinator makes every call a miss (or a refused put), never an error; the connection comes back with
 * the next coordinator. {@link #servesInPlace()}: hits are copied from the mapping into engine memory directly.
 */
final class SharedPoolTier implements StorageTier {

    static final String NAME = "pool";

    private final PoolConnection connection;
    private final long capacityBytes;
    private final AtomicLong errors = new AtomicLong();

    SharedPoolTier(PoolConnection connection, long capacityBytes) {
        this.connection = connection;
        this.capacityBytes = capacityBytes;
    }

    @Override
    public String name() {
        return NAME;
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
        return connection.call((in, out) -> {
            out.writeInt(PoolProtocol.LOOKUP);
            out.writeInt(keys.size());
            for (ChunkKey k : keys) {
                PoolProtocol.writeKey(out, k);
            }
            out.flush();
            boolean[] found = new boolean[keys.size()];
            for (int i = 0; i < found.length; i++) {
                found[i] = in.readBoolean();
            }
            return found;
        }, new boolean[keys.size()]);
    }

    /** A held slot: its number, generation, the mapping and the connection it was taken under. */
    private record Hold(int slot, long generation, PoolFile file, long epoch) {
    }

    private Optional<Hold> acquire(ChunkKey key) {
        long[] got = connection.call((in, out) -> {
            out.writeInt(PoolProtocol.ACQUIRE);
            PoolProtocol.writeKey(out, key);
            out.flush();
            return new long[] {in.readInt(), in.readLong()};
        }, new long[] {PoolProtocol.MISS, 0});
        if (got[0] < 0) {
            return Optional.empty();
        }
        Hold h = new Hold((int) got[0], got[1], connection.file(), connection.epoch());
        if (h.file().state(h.slot()) != PoolFile.word(h.generation(), PoolFile.READY) || !h.file().holdsKey(h.slot(), key)) {
            release(h); // another coordinator's pool under the same name, or a damaged header: a miss
            errors.incrementAndGet();
            return Optional.empty();
        }
        return Optional.of(h);
    }

    private void release(Hold h) {
        if (connection.epoch() != h.epoch()) {
            return; // taken from a coordinator that is gone: nothing to release
        }
        connection.call((in, out) -> {
            out.writeInt(PoolProtocol.RELEASE);
            out.writeInt(h.slot());
            out.writeLong(h.generation());
            return null; // one way
        }, null);
    }

    private boolean stillReady(Hold h) {
        return h.file().state(h.slot()) == PoolFile.word(h.generation(), PoolFile.READY);
    }

    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        return acquire(key).map(h -> new ChunkBuffer() {
            private final MemorySegment bytes = h.file().payload(h.slot()).asSlice(0, h.file().length(h.slot())).asReadOnly();
            private boolean closed;

            @Override
            public ChunkKey key() {
                return key;
            }

            @Override
            public MemorySegment segment() {
                return bytes;
            }

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    if (!stillReady(h)) {
                        errors.incrementAndGet(); // held past the lease and reused: should never happen in a live engine
                    }
                    release(h);
                }
            }
        });
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
        long[] got = connection.call((in, out) -> {
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
            connection.call((in, out) -> {
                out.writeInt(PoolProtocol.INVALIDATE);
                out.writeInt(slot);
                out.flush();
                in.readByte();
                return null;
            }, null);
            return false;
        }
        return connection.call((in, out) -> {
            out.writeInt(PoolProtocol.COMMIT);
            out.writeInt(slot);
            out.writeLong(gen);
            out.flush();
            return in.readBoolean();
        }, false) || contains(key);
    }

    @Override
    public boolean remove(ChunkKey key) {
        return connection.call((in, out) -> {
            out.writeInt(PoolProtocol.REMOVE);
            PoolProtocol.writeKey(out, key);
            out.flush();
            return in.readBoolean();
        }, false);
    }

    @Override
    public boolean pin(ChunkKey key, Duration timeout) {
        return connection.call((in, out) -> {
            out.writeInt(PoolProtocol.PIN);
            PoolProtocol.writeKey(out, key);
            out.writeLong(Math.max(0, timeout.toMillis()));
            out.flush();
            return in.readBoolean();
        }, false);
    }

    @Override
    public void unpin(ChunkKey key) {
        connection.call((in, out) -> {
            out.writeInt(PoolProtocol.UNPIN);
            PoolProtocol.writeKey(out, key);
            out.flush();
            in.readByte();
            return null;
        }, null);
    }

    @Override
    public void clear() {
        connection.call((in, out) -> {
            out.writeInt(PoolProtocol.CLEAR);
            out.flush();
            in.readByte();
            return null;
        }, null);
    }

    /** The coordinator's consistency check of this pool: its problems, empty when consistent (or unreachable: null). */
    List<String> fsck() {
        return connection.call((in, out) -> {
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

    @Override
    public TierStats stats() {
        long[] s = connection.call((in, out) -> {
            out.writeInt(PoolProtocol.STATS);
            out.flush();
            long ready = in.readInt();
            long writing = in.readInt();
            long slots = in.readInt();
            long slotBytes = in.readLong();
            in.readInt();
            return new long[] {ready, writing, slots, slotBytes};
        }, null);
        if (s == null) {
            return new TierStats(NAME, 0, 0, capacityBytes, errors.get(), false, 0);
        }
        return new TierStats(NAME, s[0], (s[0] + s[1]) * s[3], s[2] * s[3], errors.get(), true, 0);
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (IOException e) {
            errors.incrementAndGet();
        }
    }
}
