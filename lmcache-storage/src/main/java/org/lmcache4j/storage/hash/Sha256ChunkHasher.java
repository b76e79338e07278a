package org.lmcache4j.storage.hash;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.HashAlgorithm;

/** {@link ChunkHasher} with SHA-256: 32-byte keys, collision resistant. */
final class Sha256ChunkHasher extends ChunkHasher {

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    });

    Sha256ChunkHasher(CacheNamespace namespace) {
        super(HashAlgorithm.SHA_256, namespace);
    }

    @Override
    byte[] digest(ByteBuffer input) {
        MessageDigest md = SHA256.get();
        md.update(input);
        return md.digest();
    }
}
