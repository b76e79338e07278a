package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.disk.DiskTiers;
import org.lmcache4j.testing.FaultyTier;
import org.lmcache4j.testing.SeededKv;

/**
 * Regression: without a cpu tier, a store counted and returned every chunk as stored even when every
 * slower tier refused it (full or failing). Only chunks at least one tier took count, and the first chunk
 * no tier took ends the stored prefix.
 */
class StoreWithoutCpuTierTest {

    private static final int PROMPT_CHUNKS = 3;

    @TempDir
    Path dir;

    private StorageTier disk(String name) {
        return DiskTiers.open(dir.resolve(name), 64 * CHUNK_BYTES, SMALL.fingerprint(), false, System::nanoTime);
    }

    private static TieredCacheEngine engine(List<StorageTier> slower) {
        return new TieredCacheEngine(Engines.config().localCpu(false).build(), SMALL, System::nanoTime,
                UnaryOperator.identity(), slower);
    }

    private static int store(TieredCacheEngine engine, Arena arena, int[] tokens) {
        HostKvMemory kv = SeededKv.contiguous(arena, SMALL, tokens.length);
        int[] slots = SeededKv.identitySlots(tokens.length);
        SeededKv.fill(kv, tokens, slots);
        return engine.store(tokens, kv, slots);
    }

    /** {@code delegate}, except that {@code put} refuses (returns false) once {@code accepted} puts were taken. */
    private static StorageTier refusingAfter(StorageTier delegate, int accepted) {
        AtomicInteger puts = new AtomicInteger();
        return (StorageTier) Proxy.newProxyInstance(StorageTier.class.getClassLoader(), new Class<?>[] {StorageTier.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("put") && puts.incrementAndGet() > accepted) {
                        return false;
                    }
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void aChunkEveryTierRefusesIsNeitherCountedNorReturned() {
        FaultyTier failing = new FaultyTier(disk("a")).failPuts(true);
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = engine(List.of(failing))) {
            int[] tokens = SeededKv.tokens(1, PROMPT_CHUNKS * CHUNK);
            assertEquals(0, store(engine, arena, tokens));
            CacheStats s = engine.stats();
            assertEquals(0, s.storedChunks());
            assertEquals(0, s.storedBytes());
            assertEquals(1, s.storeDroppedChunks());
            assertEquals(1, failing.putCalls(), "the refused chunk ends the prefix: later chunks are not offered");
            assertEquals(0, engine.lookup(tokens));
        }
    }

    @Test
    void aTierThatFillsUpEndsTheStoredPrefix() {
        StorageTier filling = refusingAfter(disk("a"), 1);
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = engine(List.of(filling))) {
            int[] tokens = SeededKv.tokens(2, PROMPT_CHUNKS * CHUNK);
            assertEquals(CHUNK, store(engine, arena, tokens));
            CacheStats s = engine.stats();
            assertEquals(1, s.storedChunks());
            assertEquals(CHUNK_BYTES, s.storedBytes());
            assertEquals(1, s.storeDroppedChunks());
            assertEquals(CHUNK, engine.lookup(tokens));
        }
    }

    @Test
    void oneTierTakingTheChunkIsEnough() {
        FaultyTier failing = new FaultyTier(disk("a")).failPuts(true);
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = engine(List.of(failing, disk("b")))) {
            int[] tokens = SeededKv.tokens(3, PROMPT_CHUNKS * CHUNK);
            assertEquals(tokens.length, store(engine, arena, tokens));
            CacheStats s = engine.stats();
            assertEquals(PROMPT_CHUNKS, s.storedChunks());
            assertEquals(PROMPT_CHUNKS * CHUNK_BYTES, s.storedBytes());
            assertEquals(0, s.storeDroppedChunks());
            assertEquals(tokens.length, engine.lookup(tokens));
        }
    }
}
