package org.lmcache4j.storage.hash;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;

/**
 * Computes chained chunk keys. This is a persistent format (keys name files on disk and values in a
 * shared store), so it must never change silently; {@code ChunkHasherTest} pins golden values.
 *
 * <pre>
 * root     = H("lmcache4j/chunk-key/1" || algorithm name || namespace.canonicalBytes())
 * key(i)   = H(key(i-1) || tokens of chunk i as little-endian int32 || token count as little-endian int32)
 * key(-1)  = root
 * </pre>
 *
 * The namespace enters every key through the root, so tenants, models, layouts and TP ranks never share
 * a key; the parent enters every key, so equal tokens behind different prefixes get different keys; the
 * count enters every key, so a partial chunk never equals a full one. Thread-safe.
 */
public abstract sealed class ChunkHasher permits Sha256ChunkHasher, Xxh3ChunkHasher {

    private static final byte[] DOMAIN = "lmcache4j/chunk-key/1".getBytes(StandardCharsets.UTF_8);

    private final ChunkKey root;

    ChunkHasher(HashAlgorithm algorithm, CacheNamespace namespace) {
        byte[] ns = namespace.canonicalBytes();
        byte[] name = algorithm.name().getBytes(StandardCharsets.UTF_8);
        ByteBuffer seed = ByteBuffer.allocate(DOMAIN.length + name.length + ns.length);
        seed.put(DOMAIN).put(name).put(ns).flip();
        this.root = ChunkKey.of(digest(seed));
    }

    /** The hasher of {@code algorithm} rooted in {@code namespace}. */
    public static ChunkHasher create(HashAlgorithm algorithm, CacheNamespace namespace) {
        return switch (algorithm) {
            case SHA_256 -> new Sha256ChunkHasher(namespace);
            case XXH3_128 -> new Xxh3ChunkHasher(namespace);
        };
    }

    /** The parent of the first chunk. */
    final ChunkKey root() {
        return root;
    }

    /** The key of the chunk {@code tokens[from, to)} whose previous chunk has key {@code parent}. */
    final ChunkKey next(ChunkKey parent, int[] tokens, int from, int to) {
        int count = to - from;
        ByteBuffer buf = scratch(parent.length() + 4 * count + 4);
        parent.copyTo(buf.array(), 0);
        buf.position(parent.length());
        buf.asIntBuffer().put(tokens, from, count);
        buf.position(buf.position() + 4 * count);
        buf.putInt(count);
        buf.flip();
        return ChunkKey.of(digest(buf));
    }

    /**
     * A key derived from {@code parent}, a label and numbers: {@code H(parent || label as UTF-8 || values as
     * little-endian int32)}. Roots of chains that must never meet the prefix chains ({@link SegmentKeys}).
     */
    final ChunkKey derive(ChunkKey parent, String label, int... values) {
        byte[] name = label.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = scratch(parent.length() + name.length + 4 * values.length);
        parent.copyTo(buf.array(), 0);
        buf.position(parent.length());
        buf.put(name);
        for (int v : values) {
            buf.putInt(v);
        }
        buf.flip();
        return ChunkKey.of(digest(buf));
    }

    /** Hashes the remaining bytes of {@code input}. */
    abstract byte[] digest(ByteBuffer input);

    private static final ThreadLocal<ByteBuffer> SCRATCH =
            ThreadLocal.withInitial(() -> ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN));

    /** A cleared little-endian per-thread buffer of at least {@code bytes}. */
    private static ByteBuffer scratch(int bytes) {
        ByteBuffer b = SCRATCH.get();
        if (b.capacity() < bytes) {
            b = ByteBuffer.allocate(Integer.highestOneBit(bytes) << 1).order(ByteOrder.LITTLE_ENDIAN);
            SCRATCH.set(b);
        }
        return b.clear();
    }
}
