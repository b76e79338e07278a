package org.lmcache4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CacheIdentityTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 2, 16, KvDtype.BF16);

    private static CacheIdentity identity(String model, int chunkTokens, HashAlgorithm hash, String salt, int rank, int world) {
        return new CacheIdentity(new CacheNamespace(model, LAYOUT.fingerprint(), salt, rank, world), chunkTokens, hash);
    }

    @Test
    void describesEveryFieldAndNeverTheSalt() {
        CacheIdentity id = identity("Qwen/Qwen2.5-0.5B@7ae5c0e", 256, HashAlgorithm.SHA_256, "s3cret", 1, 2);
        String text = id.describe();
        assertEquals("""
                lmcache4j-identity/1
                model_id=Qwen/Qwen2.5-0.5B@7ae5c0e
                layout_fingerprint=%s
                chunk_tokens=256
                hash_algorithm=sha256
                tenant_salt_sha256=1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0
                tp_rank=1
                tp_world_size=2
                """.formatted(LAYOUT.fingerprint()), text);
        assertFalse(text.contains("s3cret"));  // the digest above is sha256sum's of the salt's bytes
        assertEquals("", id.differences(text));
        assertTrue(id.directoryName().startsWith("Qwen_Qwen2.5-0.5B_7ae5c0e-"), id.directoryName());
        assertEquals(16, id.id().length());
    }

    @Test
    void anyFieldChangesTheId() {
        List<CacheIdentity> ids = List.of(
                identity("m", 256, HashAlgorithm.SHA_256, "", 0, 1),
                identity("m2", 256, HashAlgorithm.SHA_256, "", 0, 1),
                identity("m", 128, HashAlgorithm.SHA_256, "", 0, 1),
                identity("m", 256, HashAlgorithm.XXH3_128, "", 0, 1),
                identity("m", 256, HashAlgorithm.SHA_256, "t", 0, 1),
                identity("m", 256, HashAlgorithm.SHA_256, "", 0, 2),
                identity("m", 256, HashAlgorithm.SHA_256, "", 1, 2),
                new CacheIdentity(CacheNamespace.of("m", KvLayout.standard(2, 2, 16, KvDtype.FP16)), 256, HashAlgorithm.SHA_256));
        Set<String> seen = new HashSet<>();
        for (CacheIdentity id : ids) {
            assertTrue(seen.add(id.id()), "duplicate id for " + id);
            assertTrue(seen.add(id.directoryName()), "duplicate directory for " + id);
        }
    }

    @Test
    void differencesNameTheFields() {
        CacheIdentity ours = identity("fine-tune", 256, HashAlgorithm.SHA_256, "", 0, 1);
        CacheIdentity theirs = identity("base", 128, HashAlgorithm.SHA_256, "", 0, 1);
        assertEquals("model_id: 'base' -> 'fine-tune', chunk_tokens: '128' -> '256'", ours.differences(theirs.describe()));
        assertEquals("format: 'garbage' (expected: 'lmcache4j-identity/1')", ours.differences("garbage\nx=y\n"));
        assertTrue(ours.differences(ours.describe() + "model_id=other\n").contains("model_id"), "a repeated field");
        assertNotEquals("", ours.differences(ours.describe().replace("tp_rank=0\n", "")));
        assertNotEquals("", ours.differences(null));
    }
}
