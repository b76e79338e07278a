package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.SeededKv;

/** Bad input gets a clear exception naming the value and the expectation, and nothing is half-written. */
class BadInputTest {

    private final Arena arena = Arena.ofShared();
    private TieredCacheEngine engine;
    private HostKvMemory kv;
    private int[] tokens;
    private int[] slots;

    @BeforeEach
    void setUp() {
        engine = Engines.open(Engines.config().build());
        tokens = SeededKv.tokens(1, 2 * CHUNK);
        kv = SeededKv.contiguous(arena, SMALL, 2 * CHUNK);
        slots = SeededKv.identitySlots(2 * CHUNK);
        SeededKv.fill(kv, tokens, slots);
    }

    @AfterEach
    void tearDown() {
        engine.close();
        arena.close();
    }

    private static void assertRejected(Class<? extends RuntimeException> type, String fragment, Executable call) {
        RuntimeException e = assertThrows(type, call);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should contain '" + fragment + "'");
    }

    @Test
    void layoutMismatch() {
        KvLayout other = KvLayout.standard(2, 2, 8, KvDtype.BF16);
        HostKvMemory wrong = SeededKv.contiguous(arena, other, 2 * CHUNK);
        assertRejected(IllegalArgumentException.class, "engine KV layout", () -> engine.store(tokens, wrong, slots));
        assertRejected(IllegalArgumentException.class, "expected: the connector's layout", () -> engine.retrieve(tokens, wrong, slots));
        assertEquals(0, engine.lookup(tokens), "nothing was stored");
    }

    @Test
    void slotOutOfRange() {
        int[] bad = slots.clone();
        bad[5] = 2 * CHUNK;
        assertRejected(IllegalArgumentException.class, "slotMapping[5]: 32", () -> engine.store(tokens, kv, bad));
        engine.store(tokens, kv, slots);
        HostKvMemory target = SeededKv.contiguous(arena, SMALL, 2 * CHUNK);
        int[] badLate = slots.clone();
        badLate[2 * CHUNK - 1] = 1_000_000;
        assertRejected(IllegalArgumentException.class, "1000000", () -> engine.retrieve(tokens, target, badLate));
        assertTrue(SeededKv.isZero(target, slots, 0, 2 * CHUNK), "a rejected retrieve writes nothing");
    }

    @Test
    void tokensAndSlotsOfDifferentLength() {
        assertRejected(IllegalArgumentException.class, "slotMapping: 31 slots for 32 tokens",
                () -> engine.store(tokens, kv, java.util.Arrays.copyOf(slots, 31)));
        assertRejected(IllegalArgumentException.class, "slotMapping: 33 slots for 32 tokens",
                () -> engine.retrieve(tokens, kv, java.util.Arrays.copyOf(slots, 33)));
        assertRejected(IllegalArgumentException.class, "storeMask: 3 entries for 32 tokens",
                () -> engine.store(tokens, new boolean[3], kv, slots));
    }

    @Test
    void storeMaskWhoseStoredPrefixIsNotAChunkMultiple() {
        boolean[] mask = new boolean[2 * CHUNK];
        java.util.Arrays.fill(mask, 5, mask.length, true);
        assertRejected(IllegalArgumentException.class, "already-stored prefix of 5 tokens (expected: a multiple of 16",
                () -> engine.store(tokens, mask, kv, slots));
        boolean[] holes = new boolean[2 * CHUNK];
        java.util.Arrays.fill(holes, true);
        holes[20] = false;
        assertRejected(IllegalArgumentException.class, "storeMask[20]: false after true",
                () -> engine.store(tokens, holes, kv, slots));
    }

    @Test
    void nullsAndNegativeSizes() {
        assertRejected(IllegalArgumentException.class, "tokens: null", () -> engine.lookup(null));
        assertRejected(IllegalArgumentException.class, "slotMapping: null", () -> engine.store(tokens, kv, null));
        assertRejected(IllegalArgumentException.class, "engine KV memory: null", () -> engine.retrieve(tokens, null, slots));
        assertRejected(IllegalArgumentException.class, "maxLocalCpuBytes: -1",
                () -> LmCacheConfig.builder().maxLocalCpuBytes(-1).build());
        assertRejected(IllegalArgumentException.class, "chunkTokens: -16",
                () -> LmCacheConfig.builder().chunkTokens(-16).build());
        assertRejected(IllegalArgumentException.class, "numLayers: -2", () -> KvLayout.standard(-2, 2, 8, KvDtype.FP16));
        assertRejected(IllegalArgumentException.class, "numBlocks: -1",
                () -> HostKvMemory.paged(SMALL, -1, 16, List.of(), List.of()));
    }

    /** storeAsync checks its arguments on the caller's thread, with the messages store gives, and queues nothing. */
    @Test
    void storeAsyncRejectsWhatStoreRejectsWithTheSameMessage() {
        HostKvMemory wrongLayout = SeededKv.contiguous(arena, KvLayout.standard(2, 2, 8, KvDtype.BF16), 2 * CHUNK);
        int[] outOfRange = slots.clone();
        outOfRange[5] = 2 * CHUNK;
        boolean[] notAChunk = new boolean[2 * CHUNK];
        java.util.Arrays.fill(notAChunk, 5, notAChunk.length, true);
        boolean[] holes = new boolean[2 * CHUNK];
        java.util.Arrays.fill(holes, true);
        holes[20] = false;
        List<Object[]> calls = List.of(
                new Object[] {null, null, kv, slots},
                new Object[] {tokens, null, null, slots},
                new Object[] {tokens, null, wrongLayout, slots},
                new Object[] {tokens, null, kv, null},
                new Object[] {tokens, null, kv, outOfRange},
                new Object[] {tokens, null, kv, java.util.Arrays.copyOf(slots, 31)},
                new Object[] {tokens, new boolean[3], kv, slots},
                new Object[] {tokens, notAChunk, kv, slots},
                new Object[] {tokens, holes, kv, slots});
        for (Object[] c : calls) {
            IllegalArgumentException sync = assertThrows(IllegalArgumentException.class,
                    () -> engine.store((int[]) c[0], (boolean[]) c[1], (HostKvMemory) c[2], (int[]) c[3]));
            IllegalArgumentException async = assertThrows(IllegalArgumentException.class,
                    () -> engine.storeAsync((int[]) c[0], (boolean[]) c[1], (HostKvMemory) c[2], (int[]) c[3]));
            assertEquals(sync.getMessage(), async.getMessage());
        }
        assertEquals(0, engine.stats().storedChunks(), "nothing was stored");
        assertEquals(0, engine.storeQueue().queued(), "nothing was queued");
        assertFalse(engine.storeQueue().thread().isAlive(), "no store thread was started");
        engine.close();
        assertRejected(IllegalStateException.class, "KvConnector closed", () -> engine.storeAsync(tokens, null, kv, slots));
    }

    @Test
    void budgetSmallerThanOneChunk() {
        LmCacheConfig tiny = Engines.config().maxLocalCpuBytes(Engines.CHUNK_BYTES - 1).build();
        assertRejected(IllegalArgumentException.class, "maxLocalCpuBytes: " + (Engines.CHUNK_BYTES - 1)
                + " (expected: at least one chunk", () -> Engines.open(tiny));
    }

    @Test
    void readOnlyRetrieveTargetAndDeviceMemory() {
        HostKvMemory readOnly = HostKvMemory.contiguous(SMALL,
                List.of(kv.plane(0, 0).asReadOnly(), kv.plane(1, 0).asReadOnly()),
                List.of(kv.plane(0, 1).asReadOnly(), kv.plane(1, 1).asReadOnly()));
        assertRejected(IllegalArgumentException.class, "read-only", () -> engine.retrieve(tokens, readOnly, slots));
        DeviceKvMemory device = new DeviceKvMemory(SMALL, DeviceKvFormat.VLLM, 0, new long[] {0x1000, 0x2000}, 4, 16);
        assertRejected(IllegalStateException.class, "lmcache-gpu", () -> engine.store(tokens, device, slots));
    }

    @Test
    void useAfterClose() {
        engine.close();
        engine.close(); // idempotent
        assertRejected(IllegalStateException.class, "closed", () -> engine.lookup(tokens));
        assertRejected(IllegalStateException.class, "closed", () -> engine.store(tokens, kv, slots));
        assertRejected(IllegalStateException.class, "closed", () -> engine.retrieve(tokens, kv, slots));
        assertRejected(IllegalStateException.class, "closed", () -> engine.lookupAndPin(tokens));
        assertRejected(IllegalStateException.class, "closed", engine::clear);
        assertRejected(IllegalStateException.class, "closed", engine::stats);
        assertRejected(IllegalStateException.class, "closed", () -> engine.prefetch(tokens));
    }

    @Test
    void freedOrForeignEngineMemoryIsRejectedBeforeAnyCopy() {
        engine.store(tokens, kv, slots);
        Arena gone = Arena.ofConfined();
        HostKvMemory freed = SeededKv.contiguous(gone, SMALL, 2 * CHUNK);
        gone.close();
        assertRejected(IllegalArgumentException.class, "freed", () -> engine.retrieve(tokens, freed, slots));
    }
}
