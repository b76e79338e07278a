package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lmcache4j.api.ChunkEvent;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvEventListener;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.StoreHandle;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.copy.HostBackedDeviceCopyEngine;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.testing.SeededKv;

/**
 * {@code storeAsync}'s promises to the engine: the handle is done only after the last copy, the connector
 * never reads engine memory after that, the engine's arrays may be reused at once, a full queue copies
 * inline, and {@code close()} leaves no handle pending and no copy running.
 */
class StoreAsyncTest {

    /** Holds the store thread, once, at its first chunk event or its first STORE timing, until released. */
    private static final class Gate implements KvEventListener {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final Thread held;
        private final boolean atChunk;

        Gate(Thread held, boolean atChunk) {
            this.held = held;
            this.atChunk = atChunk;
        }

        @Override
        public void onChunkEvent(ChunkEvent event) {
            if (atChunk) {
                hold();
            }
        }

        @Override
        public void onOperation(Operation operation, long nanos, int tokens, int hitTokens) {
            if (!atChunk && operation == Operation.STORE) {
                hold();
            }
        }

        private void hold() {
            if (Thread.currentThread() != held || reached.getCount() == 0) {
                return;
            }
            reached.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void awaitHeld() throws InterruptedException {
            assertTrue(reached.await(10, TimeUnit.SECONDS), "the store thread reached the gate");
        }
    }

    /** One prompt's engine memory (shared arena), filled with its seeded KV. */
    private record Prompt(int[] tokens, HostKvMemory kv, int[] slots) {
        static Prompt of(Arena arena, long seed, int tokens) {
            int[] t = SeededKv.tokens(seed, tokens);
            HostKvMemory kv = SeededKv.contiguous(arena, SMALL, tokens);
            int[] slots = SeededKv.identitySlots(tokens);
            SeededKv.fill(kv, t, slots);
            return new Prompt(t, kv, slots);
        }

        /** Fails unless {@code engine} serves exactly this prompt's seeded KV for {@code tokens} tokens. */
        void assertServed(TieredCacheEngine engine, Arena arena, int tokens) {
            HostKvMemory target = SeededKv.contiguous(arena, SMALL, this.tokens.length);
            assertEquals(tokens, engine.retrieve(this.tokens, target, slots), "tokens retrieved");
            HostKvMemory reference = SeededKv.contiguous(arena, SMALL, this.tokens.length);
            SeededKv.fill(reference, this.tokens, slots);
            SeededKv.assertSameKv(reference, slots, target, slots, 0, tokens);
        }
    }

    @Test
    void theHandleIsNotDoneWhileTheCopyRuns() throws Exception {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            Gate gate = new Gate(engine.storeQueue().thread(), true);
            engine.subscribe(gate);
            Prompt p = Prompt.of(arena, 1, 3 * CHUNK);
            StoreHandle handle = engine.storeAsync(p.tokens(), null, p.kv(), p.slots());
            gate.awaitHeld(); // the first chunk is stored, two are not
            assertFalse(handle.isDone(), "done while chunks are still to be copied: " + handle);
            assertFalse(handle.await(Duration.ofMillis(50)));
            gate.release.countDown();
            assertEquals(3 * CHUNK, handle.join());
            assertTrue(handle.await(Duration.ZERO));
            assertEquals(3 * CHUNK, engine.lookup(p.tokens()), "a lookup after the handle is done sees every chunk");
        }
    }

    /** Overwrites and frees engine memory the moment each handle is done: what was stored must not change. */
    @Test
    void engineMemoryIsNotReadAfterTheHandleIsDone() {
        for (boolean cpuTier : new boolean[] {true, false}) {
            LmCacheConfig config = Engines.config().localCpu(cpuTier).maxLocalCpuBytes(cpuTier ? 64 * CHUNK_BYTES : 0).build();
            List<StorageTier> slower = cpuTier ? List.of() : List.of(new CpuTier(64 * CHUNK_BYTES, CHUNK_BYTES));
            try (Arena kept = Arena.ofShared();
                 TieredCacheEngine engine = new TieredCacheEngine(config, SMALL, System::nanoTime, UnaryOperator.identity(), slower)) {
                List<int[]> stored = new ArrayList<>();
                for (int seed = 0; seed < 30; seed++) {
                    Arena engineArena = Arena.ofShared();
                    Prompt p = Prompt.of(engineArena, 100 + seed, 2 * CHUNK);
                    int got = engine.storeAsync(p.tokens(), null, p.kv(), p.slots()).join();
                    for (int layer = 0; layer < SMALL.numLayers(); layer++) { // the engine reuses its blocks at once
                        for (int plane = 0; plane < SMALL.planes(); plane++) {
                            p.kv().plane(layer, plane).fill((byte) 0x5A);
                        }
                    }
                    if (seed % 2 == 1) {
                        engineArena.close(); // and frees them: a later read would fail the copy and count a tier error
                    }
                    assertEquals(2 * CHUNK, got, "tokens stored");
                    stored.add(p.tokens());
                }
                for (int[] tokens : stored) {
                    new Prompt(tokens, null, SeededKv.identitySlots(2 * CHUNK)).assertServed(engine, kept, 2 * CHUNK);
                }
                assertEquals(0, engine.stats().tierErrors(), "no copy failed");
            }
        }
    }

    @Test
    void theEngineMayReuseItsArraysAsSoonAsStoreAsyncReturns() throws Exception {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            Gate gate = new Gate(engine.storeQueue().thread(), false);
            engine.subscribe(gate);
            Prompt held = Prompt.of(arena, 1, CHUNK);
            StoreHandle first = engine.storeAsync(held.tokens(), null, held.kv(), held.slots());
            gate.awaitHeld();
            Prompt p = Prompt.of(arena, 2, 2 * CHUNK);
            int[] tokens = p.tokens().clone();
            int[] slots = p.slots().clone();
            boolean[] mask = new boolean[2 * CHUNK];
            Arrays.fill(mask, true);
            StoreHandle second = engine.storeAsync(tokens, mask, p.kv(), slots);
            Arrays.fill(tokens, 7); // the engine's next request reuses the arrays while the store waits
            Arrays.fill(slots, -1);
            Arrays.fill(mask, false);
            gate.release.countDown();
            assertEquals(CHUNK, first.join());
            assertEquals(2 * CHUNK, second.join(), "stored from the arrays as they were at the call");
            p.assertServed(engine, arena, 2 * CHUNK);
        }
    }

    @Test
    void aFullQueueCopiesOnTheCallersThread() throws Exception {
        try (Arena arena = Arena.ofShared();
             TieredCacheEngine engine = new TieredCacheEngine(Engines.config().build(), SMALL, System::nanoTime,
                     UnaryOperator.identity(), List.of(), new StoreQueue(1, StoreQueue.DEFAULT_DRAIN_MILLIS))) {
            Gate gate = new Gate(engine.storeQueue().thread(), false);
            engine.subscribe(gate);
            Prompt running = Prompt.of(arena, 1, CHUNK);
            Prompt queued = Prompt.of(arena, 2, CHUNK);
            Prompt inline = Prompt.of(arena, 3, 2 * CHUNK);
            StoreHandle a = engine.storeAsync(running.tokens(), null, running.kv(), running.slots());
            gate.awaitHeld();
            StoreHandle b = engine.storeAsync(queued.tokens(), null, queued.kv(), queued.slots());
            StoreHandle c = engine.storeAsync(inline.tokens(), null, inline.kv(), inline.slots());
            assertTrue(c.isDone(), "the queue was full: copied before storeAsync returned");
            assertEquals(2 * CHUNK, c.join());
            assertFalse(b.isDone(), "still queued behind the held store");
            assertEquals(1, engine.storeQueue().ranInline());
            gate.release.countDown();
            assertEquals(CHUNK, a.join());
            assertEquals(CHUNK, b.join());
            inline.assertServed(engine, arena, 2 * CHUNK);
            assertEquals(4, engine.stats().storedChunks(), "counted as store counts");
        }
    }

    /**
     * close() with a store held mid-copy and three queued, past the drain time: the queued ones fail with
     * IllegalStateException, the held one stops at its next chunk (its first chunk stays stored), every
     * handle is done when close returns, and the store thread ends.
     */
    @ParameterizedTest
    @ValueSource(longs = {0, 100})
    void closeCompletesOrFailsEveryPendingHandle(long drainMillis) throws Exception {
        Arena arena = Arena.ofShared();
        TieredCacheEngine engine = new TieredCacheEngine(Engines.config().build(), SMALL, System::nanoTime,
                UnaryOperator.identity(), List.of(), new StoreQueue(4, drainMillis));
        Gate gate = new Gate(engine.storeQueue().thread(), true);
        engine.subscribe(gate);
        List<StoreHandle> handles = new ArrayList<>();
        Prompt held = Prompt.of(arena, 1, 3 * CHUNK);
        handles.add(engine.storeAsync(held.tokens(), null, held.kv(), held.slots()));
        gate.awaitHeld();
        for (int seed = 2; seed < 5; seed++) {
            Prompt p = Prompt.of(arena, seed, 2 * CHUNK);
            handles.add(engine.storeAsync(p.tokens(), null, p.kv(), p.slots()));
        }
        List<Boolean> doneAtClose = new ArrayList<>();
        Thread closer = Thread.ofPlatform().start(() -> {
            engine.close();
            handles.forEach(h -> doneAtClose.add(h.isDone()));
        });
        Thread.sleep(300); // past the drain time: close is waiting for the held copy
        assertTrue(closer.isAlive(), "close waits for the copy in progress");
        long releasedNanos = System.nanoTime();
        gate.release.countDown();
        closer.join(10_000);
        assertFalse(closer.isAlive(), "close returned");
        assertTrue((System.nanoTime() - releasedNanos) < TimeUnit.SECONDS.toNanos(5), "close returned soon after the copy was let go");
        assertEquals(List.of(true, true, true, true), doneAtClose, "every handle was done when close returned");
        assertEquals(CHUNK, handles.get(0).join(), "the running store stopped before its second chunk");
        for (StoreHandle queued : handles.subList(1, 4)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, queued::join);
            assertTrue(e.getMessage().contains("closed before this store ran"), e.getMessage());
        }
        engine.storeQueue().thread().join(2_000);
        assertFalse(engine.storeQueue().thread().isAlive(), "the store thread ended");
        assertThrows(IllegalStateException.class, () -> engine.storeAsync(held.tokens(), null, held.kv(), held.slots()));
        arena.close(); // nothing reads the engine memory any more
    }

    @Test
    void closeLetsQueuedStoresFinishWithinTheDrainTime() throws Exception {
        Arena arena = Arena.ofShared();
        TieredCacheEngine engine = Engines.open(Engines.config().build());
        Gate gate = new Gate(engine.storeQueue().thread(), false);
        engine.subscribe(gate);
        List<StoreHandle> handles = new ArrayList<>();
        for (int seed = 1; seed < 5; seed++) {
            Prompt p = Prompt.of(arena, seed, 2 * CHUNK);
            handles.add(engine.storeAsync(p.tokens(), null, p.kv(), p.slots()));
            if (seed == 1) {
                gate.awaitHeld();
            }
        }
        Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            gate.release.countDown();
        });
        engine.close();
        for (StoreHandle h : handles) {
            assertTrue(h.isDone());
            assertEquals(2 * CHUNK, h.join(), "queued stores ran before close returned");
        }
        arena.close();
    }

    /** Program order: a store started before clear() is waited for and cleared, not put back after it. */
    @Test
    void clearWaitsForTheStoresStartedBeforeIt() throws Exception {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            Gate gate = new Gate(engine.storeQueue().thread(), true);
            engine.subscribe(gate);
            Prompt p = Prompt.of(arena, 1, 3 * CHUNK);
            StoreHandle handle = engine.storeAsync(p.tokens(), null, p.kv(), p.slots());
            gate.awaitHeld();
            Thread clearing = Thread.ofPlatform().start(engine::clear);
            clearing.join(200);
            assertTrue(clearing.isAlive(), "clear waits for the store in progress");
            gate.release.countDown();
            clearing.join(10_000);
            assertFalse(clearing.isAlive());
            assertEquals(3 * CHUNK, handle.join());
            assertEquals(0, engine.lookup(p.tokens()), "cleared after the store, not stored after the clear");
        }
    }

    @Test
    void aStoreThatFailsFailsItsHandleAndNotTheNextOnes() throws Exception {
        try (Arena kept = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            Gate gate = new Gate(engine.storeQueue().thread(), false);
            engine.subscribe(gate);
            Prompt first = Prompt.of(kept, 1, CHUNK);
            StoreHandle a = engine.storeAsync(first.tokens(), null, first.kv(), first.slots());
            gate.awaitHeld();
            Arena freedTooEarly = Arena.ofShared();
            Prompt broken = Prompt.of(freedTooEarly, 2, 2 * CHUNK);
            StoreHandle b = engine.storeAsync(broken.tokens(), null, broken.kv(), broken.slots());
            freedTooEarly.close(); // breaks the contract: the copy must fail, not crash the thread or the JVM
            Prompt after = Prompt.of(kept, 3, CHUNK);
            StoreHandle c = engine.storeAsync(after.tokens(), null, after.kv(), after.slots());
            gate.release.countDown();
            assertEquals(CHUNK, a.join());
            assertThrows(IllegalStateException.class, b::join);
            assertEquals(CHUNK, c.join(), "the store thread went on");
            after.assertServed(engine, kept, CHUNK);
            assertEquals(0, engine.lookup(broken.tokens()), "nothing of the failed store is served");
            assertEquals(2, engine.outstandingPages(), "the failed copy's page was given back");
        }
    }

    /** Device-resident KV goes through the device copy engine on the store thread, with the same result as store. */
    @Test
    void deviceKvIsCopiedInTheBackgroundAsStoreCopiesIt() {
        int numBlocks = 8;
        int blockSize = 4;
        try (Arena arena = Arena.ofShared();
             TieredCacheEngine sync = Engines.open(Engines.config().build());
             TieredCacheEngine async = Engines.open(Engines.config().build())) {
            long[] addresses = new long[SMALL.numLayers()];
            java.util.SplittableRandom random = new java.util.SplittableRandom(5);
            for (int l = 0; l < addresses.length; l++) {
                MemorySegment tensor = arena.allocate((long) SMALL.planes() * numBlocks * blockSize * SMALL.rowBytes(), 256);
                byte[] bytes = new byte[(int) tensor.byteSize()];
                random.nextBytes(bytes);
                MemorySegment.copy(bytes, 0, tensor, ValueLayout.JAVA_BYTE, 0, bytes.length);
                addresses[l] = tensor.address();
            }
            DeviceKvMemory device = new DeviceKvMemory(SMALL, DeviceKvFormat.VLLM, HostBackedDeviceCopyEngine.DEVICE, addresses,
                    numBlocks, blockSize);
            int[] tokens = SeededKv.tokens(9, 2 * CHUNK);
            int[] slots = SeededKv.shuffledSlots(9, 2 * CHUNK, numBlocks * blockSize);
            assertEquals(sync.store(tokens, device, slots), async.storeAsync(tokens, null, device, slots).join());
            HostKvMemory fromSync = SeededKv.contiguous(arena, SMALL, 2 * CHUNK);
            HostKvMemory fromAsync = SeededKv.contiguous(arena, SMALL, 2 * CHUNK);
            int[] identity = SeededKv.identitySlots(2 * CHUNK);
            assertEquals(2 * CHUNK, sync.retrieve(tokens, fromSync, identity));
            assertEquals(2 * CHUNK, async.retrieve(tokens, fromAsync, identity));
            SeededKv.assertSameKv(fromSync, identity, fromAsync, identity, 0, 2 * CHUNK);
            assertEquals(sync.stats(), async.stats());
        }
    }

    @Test
    void confinedEngineMemoryIsRejectedAtOnce() {
        try (Arena confined = Arena.ofConfined(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            Prompt p = Prompt.of(confined, 1, CHUNK);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> engine.storeAsync(p.tokens(), null, p.kv(), p.slots()));
            assertTrue(e.getMessage().startsWith("engine KV memory: layer 0 plane 0 is confined to the calling thread"), e.getMessage());
            assertEquals(CHUNK, engine.store(p.tokens(), p.kv(), p.slots()), "store still takes it");
        }
    }
}
