package org.lmcache4j.api;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The key of one stored chunk: a content hash chained through the key of the previous chunk and
 * rooted in the {@link CacheNamespace}. Equal tokens behind different prefixes, in different namespaces
 * or with different lengths get different keys; a prefix match is a key match.
 *
 * <p>Immutable; equality is by the key bytes. {@link #toString()} is the lower-case hex form.
 */
public final class ChunkKey implements Comparable<ChunkKey> {

    private final byte[] bytes;
    private final int hash;

    private ChunkKey(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    /** A key from its bytes (copied); 16 to 64 bytes. */
    public static ChunkKey of(byte[] bytes) {
        if (bytes == null || bytes.length < 16 || bytes.length > 64) {
            throw new IllegalArgumentException("chunk key length: " + (bytes == null ? "null" : bytes.length)
                    + " (expected: 16 to 64 bytes)");
        }
        return new ChunkKey(bytes.clone());
    }

    /** A key from its hex form, as printed by {@link #toString()}. */
    public static ChunkKey ofHex(String hex) {
        try {
            return of(HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("chunk key: '" + hex + "' (expected: 32 to 128 hex digits)", e);
        }
    }

    /** The key bytes (a copy). */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** Length of the key in bytes. */
    public int length() {
        return bytes.length;
    }

    /** Writes the key bytes into {@code dst} at {@code offset}; used by hashers without copying. */
    public void copyTo(byte[] dst, int offset) {
        System.arraycopy(bytes, 0, dst, offset, bytes.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkKey other && hash == other.hash && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public int compareTo(ChunkKey o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(bytes);
    }
}
