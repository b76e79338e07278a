package org.lmcache4j.api.spi;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;

/**
 * A place chunk buffers live: {@code cpu}, {@code disk}, {@code remote}. Every implementation passes the
 * contract suite in {@code src-test-fixtures} ({@code StorageTierContract}).
 *
 * <p>Contract: a chunk is immutable once put; {@link #get} returns exactly the bytes put, or empty;
 * {@code usedBytes() <= capacityBytes()} at every moment; eviction never drops a pinned chunk or one a
 * reader holds. A miss is an empty result, never an exception; implementations may throw on internal
 * failure and callers turn that into a miss. Thread-safe.
 */
public interface StorageTier extends AutoCloseable {

    /**
     * Bytes of chunks the connector asks of a tier in one {@link #readAllInto} when a retrieve reads ahead of its
     * walk (a tier that {@link #prefersBatches prefers batches} or {@link #pipelinesReads pipelines reads}), about:
     * enough to keep a server streaming or a disk's queue full, little enough that a walk that stops early wastes
     * little (the targets are cpu-tier pages, released at once).
     */
    long READ_AHEAD_BYTES = 32L << 20;

    /**
     * Chunks of {@code chunkBytes} the connector asks of a tier in one {@link #readAllInto} when a retrieve reads
     * ahead: about {@link #READ_AHEAD_BYTES}, at least 2 and at most 16.
     */
    static int readAheadChunks(long chunkBytes) {
        return Math.clamp(READ_AHEAD_BYTES / Math.max(1, chunkBytes), 2, 16);
    }

    /** Short name for logs and metrics: {@code cpu}, {@code disk}, {@code remote}. */
    String name();

    /** True when a chunk of this key is stored (without touching its recency). */
    boolean contains(ChunkKey key);

    /** The chunk of this key, held for reading until the buffer is closed, or empty on a miss. */
    Optional<ChunkBuffer> get(ChunkKey key);

    /**
     * Copies the chunk of {@code key} into {@code target} from its start, checked as {@link #get} checks
     * it, and returns its length; -1 on a miss. Lets a caller read a slower tier straight into memory it
     * already owns (the cpu tier's page) instead of into a buffer of the tier's and then again. The
     * default goes through {@link #get}; tiers that read from files or sockets override it.
     *
     * @throws IllegalArgumentException when the chunk is larger than {@code target}
     */
    default long readInto(ChunkKey key, MemorySegment target) {
        Optional<ChunkBuffer> found = get(key);
        if (found.isEmpty()) {
            return -1;
        }
        try (ChunkBuffer chunk = found.get()) {
            long n = chunk.sizeBytes();
            if (n > target.byteSize()) {
                throw new IllegalArgumentException("chunk " + key + ": " + n + " bytes (expected: at most " + target.byteSize()
                        + ", the target's size)");
            }
            MemorySegment.copy(chunk.segment(), 0, target, 0, n);
            return n;
        }
    }

    /**
     * True when {@link #containsAll} and {@link #readAllInto} of many chunks cost about one round trip
     * rather than one per chunk (a store across a network). The connector then asks such a tier about the
     * rest of a prompt in one call the first time a walk reaches it, and reads a retrieve's chunks from it
     * ahead in batches; a tier that also {@link #servesInPlace() serves in place} (a pool behind a socket) is asked
     * with {@link #getAll} instead, which holds the rest of a retrieve's chunks in one call. The default, false,
     * suits tiers whose per-chunk calls are cheap (memory, local files): they are asked one chunk at a time and a
     * walk stops at the first miss without asking further.
     */
    default boolean prefersBatches() {
        return false;
    }

    /**
     * True when {@link #readAllInto} of several chunks overlaps their reads (several requests in flight, one
     * chunk decoded while the next is read), so that a retrieve gains from reading the chunks after the one it
     * asks for in the same call. The connector then reads a retrieve's chunks from this tier ahead of its walk,
     * into cpu-tier pages, as it does from a tier that {@link #prefersBatches() prefers batches} (which it reads
     * ahead whatever this says). The default is {@link #prefersBatches()}.
     */
    default boolean pipelinesReads() {
        return prefersBatches();
    }

    /**
     * {@link #contains} of each of {@code keys}, in one call where the tier can: element {@code i} says
     * whether {@code keys.get(i)} is stored. The default asks one key at a time.
     */
    default boolean[] containsAll(List<ChunkKey> keys) {
        boolean[] found = new boolean[keys.size()];
        for (int i = 0; i < found.length; i++) {
            found[i] = contains(keys.get(i));
        }
        return found;
    }

    /**
     * {@link #get} of each of {@code keys}, in one call where the tier can: element {@code i} is the chunk of
     * {@code keys.get(i)}, held for reading as {@code get} holds it, or empty on a miss. The caller closes every
     * buffer it is given, used or not. The default gets one key at a time.
     */
    default List<Optional<ChunkBuffer>> getAll(List<ChunkKey> keys) {
        List<Optional<ChunkBuffer>> out = new ArrayList<>(keys.size());
        try {
            for (ChunkKey k : keys) {
                out.add(get(k));
            }
        } catch (RuntimeException | Error e) {
            out.forEach(b -> b.ifPresent(ChunkBuffer::close)); // a failure midway leaves nothing held
            throw e;
        }
        return out;
    }

    /**
     * Closes {@code buffers}, each handed out by this tier's {@link #get} or {@link #getAll}, in one call where the
     * tier can (one message to a pool's coordinator rather than one per chunk). Every buffer is closed even when one
     * fails; the first failure is then thrown. The default closes each.
     */
    default void closeAll(List<ChunkBuffer> buffers) {
        RuntimeException failed = null;
        for (ChunkBuffer b : buffers) {
            try {
                b.close();
            } catch (RuntimeException e) {
                if (failed == null) {
                    failed = e;
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    /**
     * {@link #readInto} of several chunks, in one call where the tier can (pipelined): element {@code i}
     * is what {@code readInto(keys.get(i), targets.get(i))} would return, the length read or -1 on a miss.
     * A failure after the first chunk ends the batch there, as a miss: that chunk and the ones after it are -1
     * (a retrieve's walk stops at the first), the chunks read before it are kept. A failure on the first chunk
     * is thrown, as {@link #readInto} throws it. The default reads one chunk at a time.
     *
     * @throws IllegalArgumentException when the lists differ in size, or a chunk is larger than its target
     */
    default long[] readAllInto(List<ChunkKey> keys, List<MemorySegment> targets) {
        if (keys.size() != targets.size()) {
            throw new IllegalArgumentException("targets: " + targets.size() + " (expected: one per key, " + keys.size() + ")");
        }
        long[] n = new long[keys.size()];
        for (int i = 0; i < n.length; i++) {
            try {
                n[i] = readInto(keys.get(i), targets.get(i));
            } catch (IllegalArgumentException e) {
                throw e; // the caller's mistake, not the tier's failure
            } catch (RuntimeException e) {
                if (i == 0) {
                    throw e;
                }
                Arrays.fill(n, i, n.length, -1);
                break;
            }
        }
        return n;
    }

    /**
     * Stores a copy of {@code payload} under {@code key}, evicting least recently used chunks if needed.
     *
     * @return true when the chunk is now stored (also when it already was: the first content stays);
     *         false when it could not be placed (larger than the budget, or every chunk in the way is
     *         pinned or being read)
     * @throws IllegalArgumentException when the payload is larger than the largest chunk the tier holds
     */
    boolean put(ChunkKey key, MemorySegment payload);

    /**
     * Waits until the work this tier started at open to be fast later is done, at most {@code timeout} (a
     * pool in shared memory maps its pages into this process ahead of the first hit); the connector's
     * {@link org.lmcache4j.api.KvConnector#awaitReady} waits for it. The default, for tiers with nothing to
     * prepare, returns true at once.
     *
     * @return true when the preparation is done; false when {@code timeout} passed first
     */
    default boolean awaitReady(Duration timeout) {
        return true;
    }

    /**
     * True when {@link #get} hands out a view of memory that engine memory can be filled from as fast as from the
     * cpu tier's pages (a pool in shared memory): the connector then copies a hit from it straight into engine
     * memory and does not promote it into the cpu tier first, which would copy it twice and hold it twice. The
     * default, false, suits tiers that read from files or sockets.
     */
    default boolean servesInPlace() {
        return false;
    }

    /**
     * True when chunks read from this tier may differ from the chunks put (a lossy codec such as int8 is
     * configured): the connector then never copies a chunk read from here into another tier, where it
     * would pass for exact KV. The default, false, suits tiers that return exactly what was put.
     */
    default boolean servesLossy() {
        return false;
    }

    /**
     * Removes a chunk without waiting: readers that hold it keep valid bytes until they close their
     * buffer, and only then is its memory reused. Returns true when it was present.
     */
    boolean remove(ChunkKey key);

    /**
     * Protects a stored chunk from eviction for at most {@code timeout}; pins nest (each needs an
     * {@link #unpin}), and the chunk is protected until the last one ends or the latest deadline passes.
     * Returns false when the chunk is not stored.
     */
    boolean pin(ChunkKey key, Duration timeout);

    /** Ends one pin of {@code key}; no effect when it is not pinned. */
    void unpin(ChunkKey key);

    /**
     * Registers who to tell about each chunk this tier evicts on its own to make room for a put (the
     * connector turns them into {@code EVICTED} chunk events). Called at most once, before use; tiers
     * that never evict by themselves ignore it.
     */
    default void onEviction(Consumer<ChunkKey> listener) {
    }

    /**
     * Registers who to tell about each chunk this tier found damaged (checksum, length or header
     * mismatch) and dropped instead of serving it (the connector reports such misses as corrupt and
     * the chunk as evicted to event listeners). Called at most once, before use; tiers that cannot
     * detect damage ignore it.
     */
    default void onCorruption(Consumer<ChunkKey> listener) {
    }

    /**
     * Why this tier refuses the KV it holds, when it does: it was recorded under another cache identity
     * (another model, layout, chunk size, hash, tenant or rank) and must not be served; while it refuses,
     * every chunk is a miss of reason {@link org.lmcache4j.api.MissReason#IDENTITY_MISMATCH}. Empty while the
     * tier serves, and always for tiers that record no identity (the default).
     */
    default Optional<String> identityMismatch() {
        return Optional.empty();
    }

    /** Removes every chunk, pinned ones included (readers keep their bytes as with {@link #remove}). */
    void clear();

    /** Occupancy, budget, error count and health now. */
    TierStats stats();

    /** Frees everything the tier holds; idempotent. */
    @Override
    void close();
}
