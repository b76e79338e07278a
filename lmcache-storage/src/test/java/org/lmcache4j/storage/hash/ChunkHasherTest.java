package org.lmcache4j.storage.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.storage.engine.Engines;

/** Chunk keys are a persistent format: chained, namespaced, and identical in every process and version. */
class ChunkHasherTest {

    static final CacheNamespace NAMESPACE = new CacheNamespace("test-model", Engines.SMALL.fingerprint(), "", 0, 1);

    /** Two full 256-token chunks of tokens {@code 7i + 1}, for the golden values. */
    static int[] goldenTokens() {
        int[] t = new int[512];
        for (int i = 0; i < t.length; i++) {
            t[i] = i * 7 + 1;
        }
        return t;
    }

    static ChunkKey[] keys(HashAlgorithm algorithm, CacheNamespace ns, int[] tokens, int chunk) {
        PromptChunks chunks = new PromptChunks(ChunkHasher.create(algorithm, ns), tokens, chunk, true);
        ChunkKey[] keys = new ChunkKey[chunks.count()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = chunks.key(i);
        }
        return keys;
    }

    // SHA-256 values were computed independently (Python hashlib) from the format in ChunkHasher's comment.
    private static final String SHA_256_CHUNK_0 = "7e2db8372dce069808ed3562d28f5d3cc88bb6ac449245e7850440f983fc96ca";
    private static final String SHA_256_CHUNK_1 = "59fc673572e8808ab791206ea0281001f15683b79d94ce29378aa385b0039d9f";
    private static final String XXH3_128_CHUNK_0 = "a53173e38200c9920904176aa1a73f0d";
    private static final String XXH3_128_CHUNK_1 = "ef78a730d6ba6292bbc2974a87dfcfbf";

    @Test
    void goldenKeysNeverChange() {
        // If this fails, the key format changed: every stored chunk on disk or in a shared store is lost.
        // Bump the domain string in ChunkHasher deliberately and update these values together.
        ChunkKey[] sha = keys(HashAlgorithm.SHA_256, NAMESPACE, goldenTokens(), 256);
        ChunkKey[] xxh = keys(HashAlgorithm.XXH3_128, NAMESPACE, goldenTokens(), 256);
        assertEquals(SHA_256_CHUNK_0, sha[0].toString());
        assertEquals(SHA_256_CHUNK_1, sha[1].toString());
        assertEquals(XXH3_128_CHUNK_0, xxh[0].toString());
        assertEquals(XXH3_128_CHUNK_1, xxh[1].toString());
        assertEquals(32, sha[0].length());
        assertEquals(16, xxh[0].length());
    }

    @ParameterizedTest
    @EnumSource(HashAlgorithm.class)
    void keysAreChainedThroughThePrefix(HashAlgorithm algorithm) {
        int[] a = goldenTokens();
        int[] b = a.clone();
        b[3] = -1; // chunk 0 differs, chunk 1's tokens are equal
        ChunkKey[] ka = keys(algorithm, NAMESPACE, a, 256);
        ChunkKey[] kb = keys(algorithm, NAMESPACE, b, 256);
        assertNotEquals(ka[0], kb[0]);
        assertNotEquals(ka[1], kb[1], "equal tokens behind different prefixes must get different keys");
        assertEquals(ka[1], keys(algorithm, NAMESPACE, a.clone(), 256)[1], "deterministic");
    }

    @ParameterizedTest
    @EnumSource(HashAlgorithm.class)
    void namespacesNeverShareAKey(HashAlgorithm algorithm) {
        int[] tokens = goldenTokens();
        CacheNamespace[] spaces = {
            NAMESPACE,
            new CacheNamespace("test-model", Engines.SMALL.fingerprint(), "tenant-a", 0, 1),
            new CacheNamespace("test-model", Engines.SMALL.fingerprint(), "tenant-b", 0, 1),
            new CacheNamespace("other-model", Engines.SMALL.fingerprint(), "", 0, 1),
            new CacheNamespace("test-model", "0123456789abcdef", "", 0, 1),
            new CacheNamespace("test-model", Engines.SMALL.fingerprint(), "", 1, 2),
            new CacheNamespace("test-model", Engines.SMALL.fingerprint(), "", 0, 2),
        };
        Set<ChunkKey> seen = new HashSet<>();
        for (CacheNamespace ns : spaces) {
            for (ChunkKey k : keys(algorithm, ns, tokens, 256)) {
                assertEquals(true, seen.add(k), "key shared across namespaces: " + ns);
            }
        }
        assertEquals(keys(algorithm, spaces[1], tokens, 256)[0],
                keys(algorithm, new CacheNamespace("test-model", Engines.SMALL.fingerprint(), "tenant-a", 0, 1), tokens, 256)[0],
                "the same salt gives the same keys");
    }

    @Test
    void aPartialChunkNeverEqualsAFullOne() {
        int[] tokens = goldenTokens();
        PromptChunks chunks = new PromptChunks(ChunkHasher.create(HashAlgorithm.SHA_256, NAMESPACE), tokens, 256, true);
        assertNotEquals(chunks.key(0), chunks.partialKey(0, 255));
        assertEquals(chunks.key(0), chunks.partialKey(0, 256));
    }
}
