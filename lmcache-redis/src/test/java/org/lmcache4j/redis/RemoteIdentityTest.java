package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.MissReason;

/**
 * Engines sharing one Redis share KV only with engines of the same identity: another model or chunk size
 * uses another namespace, and a namespace recorded for another identity is refused, never served, never
 * written and never cleared.
 */
class RemoteIdentityTest {

    @RegisterExtension
    final LocalRedis redis = new LocalRedis();

    private static void storeAndDrain(LmCacheConfig config, String url, RemoteEngines.Prompt p) {
        try (KvConnector a = RemoteEngines.open(config, url)) {
            a.store(p.tokens(), p.kv(), p.slots());
        } // close drains the write-behind queue into Redis
    }

    @Test
    void anotherModelOrChunkSizeSharesNothing() {
        LmCacheConfig base = RemoteEngines.config();
        try (Arena arena = Arena.ofShared()) {
            RemoteEngines.Prompt p = RemoteEngines.Prompt.of(arena, 1, 4 * RemoteEngines.CHUNK);
            storeAndDrain(base, redis.url(), p);
            for (LmCacheConfig other : new LmCacheConfig[] {base.toBuilder().modelId("fine-tune").build(),
                    base.toBuilder().chunkTokens(2 * RemoteEngines.CHUNK).build()}) {
                try (KvConnector b = RemoteEngines.open(other, redis.url())) {
                    assertEquals(0, b.lookup(p.tokens()), other.toString());
                    assertEquals(0, RemoteEngines.remote(b.stats()).chunks(), "its own namespace, empty: " + other);
                }
            }
            try (KvConnector same = RemoteEngines.open(base, redis.url())) {
                assertEquals(p.tokens().length, p.retrieveAndCheck(arena, same), "the same identity still shares");
            }
        }
    }

    @Test
    void aNamespaceRecordedForAnotherIdentityIsRefused() {
        LmCacheConfig config = RemoteEngines.config();
        CacheIdentity identity = config.identity(Engines.SMALL);
        String meta = "lmc4j:{" + RemoteKeys.versioned(identity.id()) + "}:meta";
        try (Arena arena = Arena.ofShared()) {
            RemoteEngines.Prompt p = RemoteEngines.Prompt.of(arena, 1, 4 * RemoteEngines.CHUNK);
            storeAndDrain(config, redis.url(), p);
            assertEquals(identity.describe(), redis.server().call("HGET", meta, "identity"), "the namespace records its identity");
            String foreign = identity.describe().replace("model_id=" + config.modelId() + "\n", "model_id=other\n");
            redis.server().call("HSET", meta, "identity", foreign);
            try (KvConnector b = RemoteEngines.open(config, redis.url())) {
                assertEquals(0, b.lookup(p.tokens()), "never served");
                CacheStats s = b.stats();
                assertEquals(1, s.missChunks(MissReason.IDENTITY_MISMATCH, RemoteTier.NAME));
                assertFalse(RemoteEngines.remote(s).healthy());
                assertTrue(b.explain(p.tokens()).chunks().getFirst().detail().contains("model_id: 'other'"));
                b.clear();
                RemoteEngines.Prompt q = RemoteEngines.Prompt.of(arena, 2, 2 * RemoteEngines.CHUNK);
                b.store(q.tokens(), q.kv(), q.slots());
            }
            assertEquals(4L, redis.server().call("ZCARD", "lmc4j:{" + RemoteKeys.versioned(identity.id()) + "}:lru"), "not cleared, nothing added");
        }
    }

    @Test
    void aNamespaceWhoseRecordTheServerLostIsAdopted() {
        LmCacheConfig config = RemoteEngines.config();
        CacheIdentity identity = config.identity(Engines.SMALL);
        try (Arena arena = Arena.ofShared()) {
            RemoteEngines.Prompt p = RemoteEngines.Prompt.of(arena, 1, 2 * RemoteEngines.CHUNK);
            storeAndDrain(config, redis.url(), p);
            redis.server().call("HDEL", "lmc4j:{" + RemoteKeys.versioned(identity.id()) + "}:meta", "identity");
            try (KvConnector b = RemoteEngines.open(config, redis.url())) {
                assertEquals(p.tokens().length, p.retrieveAndCheck(arena, b), "its name is the identity's digest: ours");
            }
        }
    }
}
