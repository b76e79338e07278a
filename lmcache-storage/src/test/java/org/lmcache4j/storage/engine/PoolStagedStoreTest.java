package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.disk.DiskTiers;
import org.lmcache4j.testing.SeededKv;

/**
 * Without a cpu tier, a first tier that serves in place (the node-shared pool) takes the cpu tier's place on the
 * store path: a store returns once the chunks are there, and the tiers under it are written behind from it, byte for
 * byte, each chunk held there until written. A chunk whose hold ended while it was written behind is removed again,
 * and a retrieve does not count a chunk whose hold ended while it was copied.
 */
class PoolStagedStoreTest {

    private static final int CHUNKS = 3;

    @TempDir
    Path dir;

    private InPlaceTier pool;
    private Arena arena;
    private int[] tokens;
    private HostKvMemory kv;
    private int[] slots;

    @BeforeEach
    void prompt() {
        pool = new InPlaceTier(64 * CHUNK_BYTES, CHUNK_BYTES);
        arena = Arena.ofShared();
        tokens = SeededKv.tokens(3, CHUNKS * CHUNK);
        kv = SeededKv.contiguous(arena, SMALL, tokens.length);
        slots = SeededKv.identitySlots(tokens.length);
        SeededKv.fill(kv, tokens, slots);
    }

    @AfterEach
    void release() {
        pool.release();
        arena.close();
    }

    private StorageTier disk() {
        return DiskTiers.open(dir.resolve("disk"), 64 * CHUNK_BYTES, SMALL.fingerprint(), false, System::nanoTime);
    }

    private static TieredCacheEngine engine(List<StorageTier> slower) {
        return new TieredCacheEngine(Engines.config().localCpu(false).build(), SMALL, System::nanoTime,
                UnaryOperator.identity(), slower);
    }

    /** {@code delegate}, whose puts wait until {@code gate} opens. */
    private static StorageTier gated(StorageTier delegate, CountDownLatch gate) {
        return (StorageTier) Proxy.newProxyInstance(StorageTier.class.getClassLoader(), new Class<?>[] {StorageTier.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("put") && !gate.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("the gate never opened");
                    }
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    @Test
    void aStoreReturnsOnceThePoolHasItAndTheDiskUnderItIsWrittenBehind() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        StorageTier disk = disk();
        try (TieredCacheEngine engine = engine(List.of(pool, gated(disk, gate)))) {
            assertEquals(tokens.length, engine.store(tokens, kv, slots), "stored while the disk's puts wait");
            assertEquals(CHUNKS, pool.stats().chunks());
            assertEquals(0, disk.stats().chunks(), "nothing on disk before the gate opens");
            gate.countDown();
            awaitTrue(() -> disk.stats().chunks() == CHUNKS, "every chunk written behind to disk");
            awaitTrue(() -> pool.open.get() == 0, "every hold of the write-behind released");
        }
        try (TieredCacheEngine reader = engine(List.of(disk()))) { // the disk alone, in a new engine
            HostKvMemory target = SeededKv.contiguous(arena, SMALL, tokens.length);
            assertEquals(tokens.length, reader.retrieve(tokens, target, slots));
            SeededKv.assertSameKv(kv, slots, target, slots, 0, tokens.length);
        }
    }

    @Test
    void aChunkWhoseHoldEndedIsNeitherWrittenBehindNorRetrieved() throws Exception {
        pool.brokenHolds = true;
        StorageTier disk = disk();
        try (TieredCacheEngine engine = engine(List.of(pool, disk))) {
            assertEquals(tokens.length, engine.store(tokens, kv, slots));
            awaitTrue(() -> pool.open.get() == 0, "every hold of the write-behind released");
            HostKvMemory target = SeededKv.contiguous(arena, SMALL, tokens.length);
            assertEquals(0, engine.retrieve(tokens, target, slots), "a chunk copied under a broken hold is a miss");
        }
        try (StorageTier reopened = disk()) {
            assertEquals(0, reopened.stats().chunks(), "written behind, then removed: its source changed meanwhile");
        }
    }
}
