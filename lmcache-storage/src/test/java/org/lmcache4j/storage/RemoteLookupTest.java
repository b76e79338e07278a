package org.lmcache4j.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.testing.RedisServer;
import org.lmcache4j.testing.SeededKv;

/**
 * The engine's batch path to the remote tier: the presence of a whole 32-chunk prompt costs one command
 * (watched with MONITOR), asked only when a walk first reaches the remote tier; a failure is a counted miss.
 */
class RemoteLookupTest {

    static final CacheNamespace NAMESPACE = new CacheNamespace("m", RemoteTierContractTest.FINGERPRINT, "", 0, 1);
    static final org.lmcache4j.api.CacheIdentity IDENTITY = new org.lmcache4j.api.CacheIdentity(NAMESPACE, 256,
            org.lmcache4j.api.HashAlgorithm.SHA_256);

    static RedisServer redis;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    private static PromptChunks prompt(int chunks) {
        return new PromptChunks(ChunkHasher.create(HashAlgorithm.SHA_256, NAMESPACE), SeededKv.tokens(5, chunks * 16), 16, false);
    }

    @Test
    void aWholePromptIsOneCommandAskedOnFirstNeed() {
        try (RemoteTier remote = RemoteTier.open(redis.url(), IDENTITY)) {
            GuardedTier guard = new GuardedTier(remote);
            PromptChunks chunks = prompt(32);
            for (int i = 0; i < 20; i++) {
                assertTrue(remote.put(chunks.key(i), MemorySegment.ofArray(new byte[] {(byte) i})));
            }
            remote.contains(chunks.key(0)); // warm the pool
            RemoteLookup lookup = RemoteLookup.of(List.of(guard), chunks);
            assertTrue(lookup.covers(guard));
            try (RedisServer.Monitor monitor = redis.monitor()) {
                assertEquals(List.of(), monitor.clientCommands(), "nothing asked before a walk reaches the remote tier");
                for (int i = 0; i < 32; i++) {
                    assertEquals(i < 20, lookup.contains(chunks.key(i), i), "chunk " + i);
                }
                assertEquals(List.of("zmscore"), monitor.clientCommands(), "one command for the 32-chunk prompt");
            }
            assertEquals(0, guard.errors());
        }
    }

    @Test
    void aFailedBatchIsACountedMissForEveryChunk() {
        RedisServer gone = RedisServer.start();
        gone.kill();
        try (RemoteTier remote = RemoteTier.open(gone.url() + "?timeoutMillis=200", IDENTITY)) {
            GuardedTier guard = new GuardedTier(remote);
            PromptChunks chunks = prompt(8);
            RemoteLookup lookup = RemoteLookup.of(List.of(guard), chunks);
            for (int i = 0; i < 8; i++) {
                assertFalse(lookup.contains(chunks.key(i), i));
            }
            assertEquals(1, guard.errors(), "one failed call, counted once");
            assertFalse(guard.stats().healthy());
        } finally {
            gone.close();
        }
    }

    @Test
    void withoutARemoteTierNothingIsCovered() {
        RemoteLookup lookup = RemoteLookup.of(List.of(), prompt(2));
        assertFalse(lookup.covers(null));
        assertFalse(lookup.contains(prompt(2).key(0), 0));
    }
}
