package org.lmcache4j.storage.hash;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hashes synthetic chunks on a background thread at open, so that the chunk hasher is compiled before the
 * first request needs it. Every lookup, store and retrieve hashes its prompt; until the JIT has compiled
 * the digest (SHA-256 then runs on the CPU's SHA instructions), a chunk costs tens of microseconds instead
 * of about one. Measured here on a fresh JVM: eight 1 KiB SHA-256 digests took 230 microseconds
 * interpreted and 7 after compilation, so each lookup, store and retrieve of a 2,048-token prompt in a
 * fresh process spent ~0.2 ms on hashing: a tenth of the copy of a small hit's KV (a lookup in a probe
 * took 0.3-0.5 ms before this warm-up, 0.2 ms after, 0.02 ms once the rest of its path was compiled).
 *
 * <p>One warm-up runs per hash algorithm and JVM ({@link #of}): compiled code serves every connector.
 *
 * <p>The chunks are hashed in batches through a method called once per batch, so that the hasher's own
 * methods are compiled as the engine calls them (a single loop would be compiled on-stack with them
 * inlined, leaving the methods the engine calls interpreted). The keys are discarded; nothing is stored.
 */
public final class HasherWarmUp {

    private static final Logger LOG = LoggerFactory.getLogger(HasherWarmUp.class);

    /** Chunks hashed per call of {@link #batch}. */
    static final int BATCH = 16;

    /** Batches hashed: well past the JIT's thresholds for the optimizing compiler (about 20,000 chunks). */
    static final int BATCHES = 1_250;

    private final CountDownLatch done = new CountDownLatch(1);
    private final Thread thread;
    private volatile int hashed;

    private HasherWarmUp(ChunkHasher hasher, int chunkTokens) {
        this.thread = Thread.ofPlatform().daemon().name("lmcache-hash-warmup").unstarted(() -> run(hasher, chunkTokens));
    }

    /** One warm-up per hash algorithm and JVM: compiled code is shared by every connector of the process. */
    private static final Map<HashAlgorithm, HasherWarmUp> PER_ALGORITHM = new ConcurrentHashMap<>();

    /**
     * The warm-up of {@code algorithm} in this JVM: started by the first connector that asks (hashing with a
     * hasher of {@code namespace}), shared by the later ones.
     */
    public static HasherWarmUp of(HashAlgorithm algorithm, CacheNamespace namespace, int chunkTokens) {
        return PER_ALGORITHM.computeIfAbsent(algorithm, a -> start(ChunkHasher.create(a, namespace), chunkTokens));
    }

    /** Starts hashing {@link #BATCHES} batches of {@code chunkTokens}-token chunks with {@code hasher} on a daemon thread. */
    static HasherWarmUp start(ChunkHasher hasher, int chunkTokens) {
        HasherWarmUp warmUp = new HasherWarmUp(hasher, chunkTokens);
        warmUp.thread.start();
        return warmUp;
    }

    private void run(ChunkHasher hasher, int chunkTokens) {
        try {
            int[] tokens = new int[chunkTokens];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = i * 31 + 7;
            }
            ChunkKey last = hasher.root();
            for (int b = 0; b < BATCHES; b++) {
                last = batch(hasher, last, tokens);
                hashed += BATCH;
            }
        } catch (RuntimeException | Error e) {
            LOG.debug("chunk hasher warm-up stopped early; the first requests compile it instead", e);
        } finally {
            done.countDown();
        }
    }

    /** Hashes {@link #BATCH} chained chunks after {@code parent}; returns the last key. */
    private static ChunkKey batch(ChunkHasher hasher, ChunkKey parent, int[] tokens) {
        ChunkKey key = parent;
        for (int i = 0; i < BATCH; i++) {
            key = hasher.next(key, tokens, 0, tokens.length);
        }
        return key;
    }

    /** Chunks hashed so far. */
    public int hashed() {
        return hashed;
    }

    /**
     * Waits at most {@code timeoutMillis} for the warm-up's thread to have ended (a connector's close does,
     * so that no thread of the library outlives it; the warm-up takes ~0.1 s once per JVM); true when it has.
     */
    public boolean awaitThreadEnd(long timeoutMillis) {
        try {
            thread.join(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    /** Waits at most {@code timeoutNanos} for the warm-up to end; true when it has. */
    public boolean await(long timeoutNanos) {
        try {
            return done.await(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
