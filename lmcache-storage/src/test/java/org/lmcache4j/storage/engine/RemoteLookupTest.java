package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.storage.hash.ChunkHasher;
import org.lmcache4j.storage.hash.PromptChunks;
import org.lmcache4j.testing.SeededKv;

/**
 * The engine's batch path to a tier that prefers batches (the remote tier, whichever provider opened it):
 * the presence of a whole 32-chunk prompt costs one {@code containsAll}, asked only when a walk first
 * reaches that tier; a failure is a counted miss; a tier that does not prefer batches is asked chunk by
 * chunk. (That the Redis tier's {@code containsAll} is one command is lmcache-redis's RemoteTierTest.)
 */
class RemoteLookupTest {

    static final CacheNamespace NAMESPACE = new CacheNamespace("m", "d4f6e32487754f6c", "", 0, 1);

    private static PromptChunks prompt(int chunks) {
        return new PromptChunks(ChunkHasher.create(HashAlgorithm.SHA_256, NAMESPACE), SeededKv.tokens(5, chunks * 16), 16, false);
    }

    @Test
    void aWholePromptIsOneBatchAskedOnFirstNeed() {
        BatchingTier remote = new BatchingTier(64 * 4096, 4096);
        try {
            GuardedTier guard = new GuardedTier(remote);
            PromptChunks chunks = prompt(32);
            for (int i = 0; i < 20; i++) {
                assertTrue(remote.put(chunks.key(i), MemorySegment.ofArray(new byte[] {(byte) i})));
            }
            RemoteLookup lookup = RemoteLookup.of(List.of(guard), chunks);
            assertTrue(lookup.covers(guard));
            assertEquals(List.of(), remote.containsAllCalls, "nothing asked before a walk reaches the tier");
            for (int i = 0; i < 32; i++) {
                assertEquals(i < 20, lookup.contains(chunks.key(i), i), "chunk " + i);
            }
            assertEquals(List.of(32), remote.containsAllCalls, "one batch for the 32-chunk prompt");
            assertEquals(32, remote.containsCalls, "the default containsAll asked each key once, inside the batch");
            assertEquals(0, guard.errors());
        } finally {
            remote.release();
        }
    }

    @Test
    void aFailedBatchIsACountedMissForEveryChunk() {
        BatchingTier remote = new BatchingTier(64 * 4096, 4096);
        try {
            remote.failBatches = true;
            GuardedTier guard = new GuardedTier(remote);
            PromptChunks chunks = prompt(8);
            RemoteLookup lookup = RemoteLookup.of(List.of(guard), chunks);
            for (int i = 0; i < 8; i++) {
                assertFalse(lookup.contains(chunks.key(i), i));
            }
            assertEquals(List.of(8), remote.containsAllCalls, "asked once");
            assertEquals(1, guard.errors(), "one failed call, counted once");
            assertFalse(guard.stats().healthy());
        } finally {
            remote.release();
        }
    }

    @Test
    void aTierThatDoesNotPreferBatchesIsNotCovered() {
        try (CpuTier cpu = new CpuTier(64 * 4096, 4096)) {
            GuardedTier guard = new GuardedTier(cpu);
            RemoteLookup lookup = RemoteLookup.of(List.of(guard), prompt(2));
            assertFalse(lookup.covers(guard));
        }
    }

    @Test
    void withoutARemoteTierNothingIsCovered() {
        RemoteLookup lookup = RemoteLookup.of(List.of(), prompt(2));
        assertFalse(lookup.covers(null));
        assertFalse(lookup.contains(prompt(2).key(0), 0));
    }
}
