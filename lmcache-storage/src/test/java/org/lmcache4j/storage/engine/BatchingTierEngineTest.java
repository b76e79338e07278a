package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.storage.hash.ChunkHasher;
import org.lmcache4j.storage.hash.PromptChunks;
import org.lmcache4j.testing.SeededKv;

/**
 * The engine gives any tier that prefers batches the remote tier's fast path, whatever provider opened it:
 * a retrieve of a prompt only that tier holds asks for the prompt's presence in one call and reads its
 * chunks ahead in batches (16 chunks here, the most a batch takes), byte for byte, each chunk once.
 */
class BatchingTierEngineTest {

    private static final int CHUNKS = 20;

    @Test
    void aRetrieveFromATierThatPrefersBatchesIsOneLookupAndBatchedReads() throws Exception {
        LmCacheConfig config = Engines.config().build();
        BatchingTier shared = new BatchingTier(4 * CHUNKS * Engines.CHUNK_BYTES, Engines.CHUNK_BYTES);
        try (Arena arena = Arena.ofShared()) {
            int[] tokens;
            try (TieredCacheEngine writer = open(config, shared)) {
                tokens = Engines.storePrompt(writer, arena, 7, CHUNKS);
                while (writer.writeBehindQueued() > 0) {
                    Thread.sleep(1);
                }
            } // close drains the write-behind queue into the shared tier
            assertEquals(CHUNKS, shared.stats().chunks());
            shared.containsAllCalls.clear();
            retrieveWholePromptExactly(config, arena, tokens, 3, shared);
            assertEquals(List.of(CHUNKS), shared.containsAllCalls, "the prompt's presence in one call");
            assertEquals(List.of(16, CHUNKS - 16), shared.readAllIntoCalls, "the chunks in batches of at most 16");
            assertEquals(0, shared.readIntoCalls, "no chunk read on its own");
        } finally {
            shared.release();
        }
    }

    /**
     * A local tier that pipelines reads (the disk tier) without preferring batches: its presence is asked
     * chunk by chunk, never in one call, and a retrieve reads its chunks ahead in batches, byte for byte.
     */
    @Test
    void aRetrieveFromATierThatPipelinesReadsReadsAheadInBatches() throws Exception {
        LmCacheConfig config = Engines.config().build();
        BatchingTier local = BatchingTier.pipelining(4 * CHUNKS * Engines.CHUNK_BYTES, Engines.CHUNK_BYTES);
        try (Arena arena = Arena.ofShared()) {
            int[] tokens = storeThrough(config, arena, 11, local);
            assertEquals(CHUNKS, local.stats().chunks());
            retrieveWholePromptExactly(config, arena, tokens, 5, local);
            assertEquals(List.of(), local.containsAllCalls, "presence asked chunk by chunk");
            assertEquals(List.of(16, CHUNKS - 16), local.readAllIntoCalls, "the chunks in batches of at most 16");
            assertEquals(0, local.readIntoCalls, "no chunk read on its own");
        } finally {
            local.release();
        }
    }

    /**
     * Both read ahead: the local tier lacks the prompt's first chunk, so the remote tier reads it and the next 15
     * ahead; the walk then takes those pages, though the local tier (asked first) holds the chunks, and reads only
     * the rest from the local tier, each chunk once, byte for byte.
     */
    @Test
    void aChunkOneTierReadAheadIsNotReadAgainFromAnother() throws Exception {
        LmCacheConfig config = Engines.config().build();
        BatchingTier local = BatchingTier.pipelining(4 * CHUNKS * Engines.CHUNK_BYTES, Engines.CHUNK_BYTES);
        BatchingTier remote = new BatchingTier(4 * CHUNKS * Engines.CHUNK_BYTES, Engines.CHUNK_BYTES);
        try (Arena arena = Arena.ofShared()) {
            int[] tokens = storeThrough(config, arena, 13, local, remote);
            assertEquals(CHUNKS, local.stats().chunks());
            assertEquals(CHUNKS, remote.stats().chunks());
            ChunkHasher hasher = ChunkHasher.create(config.hashAlgorithm(), config.namespace(Engines.SMALL));
            assertTrue(local.remove(new PromptChunks(hasher, tokens, Engines.CHUNK, false).key(0)));
            retrieveWholePromptExactly(config, arena, tokens, 7, local, remote);
            assertEquals(List.of(16), remote.readAllIntoCalls, "the first chunk and 15 ahead from the remote tier");
            assertEquals(List.of(CHUNKS - 16), local.readAllIntoCalls, "only what the remote tier did not read ahead");
            assertEquals(0, local.readIntoCalls + remote.readIntoCalls, "no chunk read on its own");
        } finally {
            local.release();
            remote.release();
        }
    }

    /** Stores a prompt of {@link #CHUNKS} chunks through an engine over {@code tiers}, closed (its write-behind drained) after. */
    private static int[] storeThrough(LmCacheConfig config, Arena arena, long seed, BatchingTier... tiers) {
        try (TieredCacheEngine writer = open(config, tiers)) {
            return Engines.storePrompt(writer, arena, seed, CHUNKS);
        }
    }

    /** A new engine over {@code tiers} retrieves all of {@code tokens} into shuffled slots, byte for byte. */
    private static void retrieveWholePromptExactly(LmCacheConfig config, Arena arena, int[] tokens, long seed, BatchingTier... tiers) {
        HostKvMemory source = SeededKv.contiguous(arena, Engines.SMALL, tokens.length);
        int[] sourceSlots = SeededKv.identitySlots(tokens.length);
        SeededKv.fill(source, tokens, sourceSlots);
        try (TieredCacheEngine reader = open(config, tiers)) {
            HostKvMemory target = SeededKv.paged(arena, Engines.SMALL, tokens.length / 16 + 1, 16);
            int[] slots = SeededKv.shuffledSlots(seed, tokens.length, target.numSlots());
            assertEquals(tokens.length, reader.retrieve(tokens, target, slots));
            SeededKv.assertSameKv(source, sourceSlots, target, slots, 0, tokens.length);
        }
    }

    private static TieredCacheEngine open(LmCacheConfig config, BatchingTier... tiers) {
        return new TieredCacheEngine(config, Engines.SMALL, System::nanoTime, UnaryOperator.identity(), List.of(tiers));
    }
}
