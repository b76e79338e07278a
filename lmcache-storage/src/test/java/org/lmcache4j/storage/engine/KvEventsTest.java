package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkEvent;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvEventListener;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.storage.disk.DiskTiers;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.testing.SeededKv;

/** Chunk events arrive in order, with what a router needs; timings and per-tier counts are exact. */
class KvEventsTest {

    /** Records every event as "TYPE tier start-end". */
    static final class Recorder implements KvEventListener {
        final List<ChunkEvent> events = new ArrayList<>();
        final List<String> operations = new ArrayList<>();

        @Override
        public synchronized void onChunkEvent(ChunkEvent e) {
            events.add(e);
        }

        @Override
        public synchronized void onOperation(Operation op, long nanos, int tokens, int hit) {
            operations.add(op + " " + tokens + " " + hit);
        }

        synchronized List<String> lines() {
            return events.stream().map(e -> e.type() + " " + e.tier() + " " + e.startToken() + "-" + e.endToken()).toList();
        }
    }

    private static int[] store(TieredCacheEngine engine, Arena arena, int seed, int chunks) {
        return Engines.storePrompt(engine, arena, seed, chunks);
    }

    @Test
    void storeEvictRestoreArriveInOrder() throws Exception {
        Recorder recorder = new Recorder();
        try (Arena arena = Arena.ofShared();
             TieredCacheEngine engine = Engines.open(Engines.config().maxLocalCpuBytes(2 * CHUNK_BYTES).build());
             AutoCloseable subscription = engine.subscribe(recorder)) {
            assertTrue(subscription != null);
            int[] a = store(engine, arena, 1, 2);       // STORED a0, a1
            store(engine, arena, 2, 1);                  // EVICTED a0, STORED b0
            store(engine, arena, 1, 2);                  // restore a: EVICTED a1, STORED a0, EVICTED b0, STORED a1
            engine.clear();                              // CLEARED
            assertEquals(List.of(
                    "STORED cpu 0-16", "STORED cpu 16-32",
                    "EVICTED cpu -1--1", "STORED cpu 0-16",
                    "EVICTED cpu -1--1", "STORED cpu 0-16", "EVICTED cpu -1--1", "STORED cpu 16-32",
                    "CLEARED * -1--1"), recorder.lines());
            List<ChunkEvent> events = recorder.events;
            for (int i = 0; i < events.size(); i++) {
                assertEquals(i + 1, events.get(i).sequence(), "sequence without gaps");
            }
            assertEquals(events.get(0).key(), events.get(1).parent().orElseThrow(), "a stored chunk names its parent");
            assertEquals(events.get(0).key(), events.get(2).key(), "the first chunk of a was evicted first");
            assertEquals(List.of("STORE 32 32", "STORE 16 16", "STORE 32 32"), recorder.operations);
            assertEquals(a.length, 2 * CHUNK);
        }
    }

    @Test
    void writeBehindEvictionAndPromotionAreEventsOfTheirTier() throws Exception {
        Recorder recorder = new Recorder();
        CpuTier slowerStore = new CpuTier(16 * CHUNK_BYTES, CHUNK_BYTES);
        try (Arena arena = Arena.ofShared();
             TieredCacheEngine engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(2 * CHUNK_BYTES).build(),
                     SMALL, System::nanoTime, UnaryOperator.identity(), List.of(new SlowTier(slowerStore, 0)));
             AutoCloseable subscription = engine.subscribe(recorder)) {
            assertTrue(subscription != null);
            int[] a = store(engine, arena, 1, 1);
            for (int i = 0; i < 500 && recorder.lines().size() < 2; i++) {
                Thread.sleep(5); // the write-behind's event follows its put
            }
            assertEquals(List.of("STORED cpu 0-16", "STORED slow -1--1"), recorder.lines(), "stored, then written behind");
            store(engine, arena, 2, 2); // evicts a from the cpu tier; the slow tier already has it
            for (int i = 0; i < 500 && recorder.lines().stream().filter(l -> l.equals("STORED slow -1--1")).count() < 3; i++) {
                Thread.sleep(5); // let the write-behind of these two chunks finish, so their events come first
            }
            assertEquals(3, slowerStore.stats().chunks());
            assertTrue(recorder.lines().contains("EVICTED cpu -1--1"));
            assertEquals(Map.of("cpu", 0, "slow", CHUNK), engine.lookupByTier(a));

            HostKvMemory target = SeededKv.contiguous(arena, SMALL, CHUNK);
            assertEquals(CHUNK, engine.retrieve(a, target, SeededKv.identitySlots(CHUNK)));
            assertEquals("STORED cpu -1--1", recorder.lines().getLast(), "the promotion back into the cpu tier");
            assertEquals(Map.of("cpu", CHUNK, "slow", CHUNK), engine.lookupByTier(a));
            assertEquals(Map.of("cpu", 0L, "slow", (long) CHUNK), engine.stats().retrievedTokensByTier());
        }
    }

    @Test
    void aThrowingListenerNeverReachesTheEngine() {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            engine.subscribe(new KvEventListener() {
                @Override
                public void onChunkEvent(ChunkEvent event) {
                    throw new IllegalStateException("listener bug");
                }
            });
            int[] tokens = store(engine, arena, 1, 2);
            assertEquals(2 * CHUNK, engine.lookup(tokens));
        }
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    @Test
    void aDiskEvictionIsAnEventOfTheDiskTier() throws Exception {
        Recorder recorder = new Recorder();
        long fileBytes = DiskChunkFormat.fileBytes(CHUNK_BYTES);
        try (Arena arena = Arena.ofShared();
             TieredCacheEngine engine = new TieredCacheEngine(Engines.config().maxLocalCpuBytes(8 * CHUNK_BYTES).build(),
                     SMALL, System::nanoTime, UnaryOperator.identity(),
                     List.of(DiskTiers.open(dir, 2 * fileBytes, SMALL.fingerprint())));
             AutoCloseable subscription = engine.subscribe(recorder)) {
            assertTrue(subscription != null);
            store(engine, arena, 1, 4); // 4 chunks written behind to a disk that holds 2
            for (int i = 0; i < 500 && recorder.lines().stream().filter(l -> l.startsWith("STORED disk")).count() < 4; i++) {
                Thread.sleep(5);
            }
            assertEquals(2, recorder.lines().stream().filter(l -> l.startsWith("EVICTED disk")).count(), recorder.lines().toString());
            assertEquals(4, recorder.lines().stream().filter(l -> l.startsWith("STORED disk")).count());
        }
    }

    @Test
    void eachSubscriptionEndsOnlyItselfAndOnlyOnce() throws Exception {
        Recorder recorder = new Recorder();
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = Engines.open(Engines.config().build())) {
            AutoCloseable first = engine.subscribe(recorder);
            AutoCloseable second = engine.subscribe(recorder); // the same listener twice: two subscriptions
            store(engine, arena, 1, 1);
            assertEquals(List.of("STORED cpu 0-" + CHUNK, "STORED cpu 0-" + CHUNK), recorder.lines());
            first.close();
            first.close(); // regression: a second close removed the other subscription too
            store(engine, arena, 2, 1);
            assertEquals(3, recorder.lines().size(), recorder.lines().toString());
            second.close();
            store(engine, arena, 3, 1);
            assertEquals(3, recorder.lines().size(), recorder.lines().toString());
        }
    }

    @Test
    void awaitReadyAfterCloseThrowsAndANullTimeoutIsRefused() {
        TieredCacheEngine engine = Engines.open(Engines.config().build());
        assertThrows(IllegalArgumentException.class, () -> engine.awaitReady(null));
        engine.close();
        // regression: a closed connector answered true, so a readiness probe took it for ready
        assertThrows(IllegalStateException.class, () -> engine.awaitReady(java.time.Duration.ofSeconds(1)));
    }
}
