package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.redis.RemoteEngines.CHUNK;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.redis.RemoteEngines.Prompt;
import org.lmcache4j.storage.keys.PrefixKeys;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.testing.RedisServer;

/**
 * A retrieve of a prompt held only in Redis reads its chunks ahead in batches (the engine's read-ahead of a
 * tier that prefers batches, 16 chunks of 8 KiB here): byte for byte, each chunk read
 * once, every page either committed to the cpu tier or released; a chunk lost in the middle of a batch
 * ends the retrieve there, and a server that stalls during the batch makes it a clean miss; no page is
 * left behind either way.
 */
class RemoteReadAheadTest {

    /** Chunks of 8 KiB are read 16 at a time: this prompt takes a batch of 16, then one of 4. */
    private static final int BATCH = 16;
    private static final int CHUNKS = BATCH + 4;
    private static final int PARTS_PER_CHUNK = 2; // RemoteEngines: 8 KiB chunks, 4 KiB parts

    @RegisterExtension
    final LocalRedis redis = new LocalRedis();
    private final LmCacheConfig config = RemoteEngines.config();

    /** Stores {@code p} through one engine and closes it, so the prompt is held only in Redis. */
    private void storeInRedis(Prompt... prompts) {
        try (KvConnector writer = RemoteEngines.open(config, redis.url())) {
            for (Prompt p : prompts) {
                assertEquals(p.tokens().length, writer.store(p.tokens(), p.kv(), p.slots()));
            }
        } // close drains the write-behind queue into Redis
    }

    /**
     * The cpu tier holds exactly its committed chunks: no page is held by a read-ahead or leaked (its used
     * bytes count every page held, committed or not, and a page of these chunks is one chunk's bytes).
     */
    private static void assertNoPageLeft(KvConnector engine, int chunks) {
        TierStats cpu = engine.stats().tiers().stream().filter(t -> t.name().equals("cpu")).findFirst().orElseThrow();
        assertEquals(chunks, cpu.chunks());
        assertEquals(chunks * Engines.SMALL.chunkBytes(CHUNK), cpu.usedBytes(), "pages held beyond the committed chunks");
    }

    private static long fromRemote(KvConnector engine) {
        return engine.stats().retrievedTokensByTier().getOrDefault(RemoteTier.NAME, 0L);
    }

    @Test
    void aRetrieveReadsTheRemoteChunksAheadInBatchesByteForByteEachOnce() {
        try (Arena arena = Arena.ofShared()) {
            Prompt warm = Prompt.of(arena, 1, 2 * CHUNK);
            Prompt p = Prompt.of(arena, 2, CHUNKS * CHUNK);
            storeInRedis(warm, p);
            try (KvConnector reader = RemoteEngines.open(config, redis.url())) {
                assertEquals(2 * CHUNK, warm.retrieveAndCheck(arena, reader)); // the server knows the scripts now
                List<String> commands;
                int got;
                try (RedisServer.Monitor monitor = redis.server().monitor()) {
                    got = p.retrieveAndCheck(arena, reader);
                    commands = monitor.clientCommands().stream().filter(c -> c.equals("evalsha") || c.equals("get")).toList();
                }
                assertEquals(CHUNKS * CHUNK, got);
                assertEquals((2 + CHUNKS) * CHUNK, fromRemote(reader), "every chunk counted as a load from the remote tier");
                List<String> expected = new ArrayList<>();
                expected.addAll(Collections.nCopies(BATCH, "evalsha")); // the first batch: headers, then their parts
                expected.addAll(Collections.nCopies(BATCH * PARTS_PER_CHUNK, "get"));
                expected.addAll(Collections.nCopies(CHUNKS - BATCH, "evalsha")); // the rest
                expected.addAll(Collections.nCopies((CHUNKS - BATCH) * PARTS_PER_CHUNK, "get"));
                assertEquals(expected, commands);
                assertNoPageLeft(reader, 2 + CHUNKS);
                assertEquals(CHUNKS * CHUNK, p.retrieveAndCheck(arena, reader), "and again, from the cpu tier");
            }
        }
    }

    @Test
    void aChunkLostInTheMiddleOfABatchEndsTheRetrieveThereAndNoPageIsLeft() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            Prompt p = Prompt.of(arena, 3, CHUNKS * CHUNK);
            storeInRedis(p);
            try (KvConnector reader = RemoteEngines.open(config, redis.url())) {
                ChunkKey lost = PrefixKeys.of(config, Engines.SMALL).keys(p.tokens()).get(2);
                try (RemoteTier remote = RemoteTier.open(redis.url(), config.identity(Engines.SMALL))) {
                    deleteFirstPart(remote, lost);
                }
                assertEquals(2 * CHUNK, p.retrieveAndCheck(arena, reader), "the prefix before the lost chunk, byte for byte");
                assertEquals(1, RemoteEngines.remote(reader.stats()).errors(), "the lost chunk, counted by the reader's tier");
                // chunks 3 on were read in the same batch, after the lost one: their pages are released, not kept
                assertNoPageLeft(reader, 2);
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aServerThatStallsDuringTheBatchIsACleanMissAndTheNextRetrieveGetsEverything() {
        try (Arena arena = Arena.ofShared()) {
            Prompt p = Prompt.of(arena, 4, CHUNKS * CHUNK);
            storeInRedis(p);
            try (KvConnector reader = RemoteEngines.open(config, redis.url() + "?timeoutMillis=300")) {
                // Writes (and scripts, which may write) wait; reads do not: the lookup of the prompt answers,
                // the batch's headers (a script marks them used) time out.
                redis.server().call("CLIENT", "PAUSE", "2000", "WRITE");
                int got;
                try {
                    got = p.retrieveAndCheck(arena, reader);
                } finally {
                    redis.server().call("CLIENT", "UNPAUSE");
                }
                assertEquals(0, got, "the failed batch is a miss from its first chunk on");
                assertTrue(reader.stats().tierErrors() >= 1, "the failure is counted");
                assertNoPageLeft(reader, 0);
                assertEquals(CHUNKS * CHUNK, p.retrieveAndCheck(arena, reader), "the tier serves again, byte for byte");
                assertNoPageLeft(reader, CHUNKS);
            }
        }
    }

    private static void deleteFirstPart(RemoteTier remote, ChunkKey key) throws CorruptChunkException {
        try (var raw = RedisLink.open(remote.link().url())) {
            byte[] header = raw.hget(remote.keys().indexKeys(remote.keys().shardOf(key)).get(1), RemoteKeys.member(key));
            assertNotNull(header, "header of " + key);
            RemoteChunkFormat.Header h = new RemoteChunkFormat(Engines.SMALL.fingerprint(), 4096, false).decode(header, key, "test");
            assertEquals(1, raw.del(remote.keys().parts(key, h.writeId(), h.parts())[0]));
        }
    }
}
