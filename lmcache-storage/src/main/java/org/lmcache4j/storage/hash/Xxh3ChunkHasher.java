package org.lmcache4j.storage.hash;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.openhft.hashing.LongTupleHashFunction;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.HashAlgorithm;

/** {@link ChunkHasher} with XXH3-128: 16-byte keys, fast, not collision resistant (single tenant). */
final class Xxh3ChunkHasher extends ChunkHasher {

    private static final LongTupleHashFunction XXH3_128 = LongTupleHashFunction.xx128();

    Xxh3ChunkHasher(CacheNamespace namespace) {
        super(HashAlgorithm.XXH3_128, namespace);
    }

    @Override
    byte[] digest(ByteBuffer input) {
        long[] h = XXH3_128.hashBytes(input);
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(h[0]).putLong(h[1]).array();
    }
}
