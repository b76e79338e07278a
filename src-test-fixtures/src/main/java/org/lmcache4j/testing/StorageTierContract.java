package org.lmcache4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;

/**
 * The contract suite of the {@link StorageTier} SPI: every tier's test class extends it and says how to
 * make a tier ({@link #newTier}), how big a chunk may be ({@link #chunkBytes}) and what one chunk costs
 * against the budget ({@link #chargedBytes}).
 *
 * <p>Implementation notes. Each test opens its tiers lazily through {@link #tier()} / {@link #openTier},
 * after every {@code @BeforeEach} of the subclass has run (so a subclass may prepare directories or
 * servers there, or use {@code @TempDir} fields); {@code @AfterEach} closes them. Payloads are handed to
 * {@code put} as native segments of a per-test shared arena, as an engine would. No test depends on
 * timing: pins last minutes, and operations that may block (a remove or close while a reader holds the
 * chunk) run on a helper thread whose result is awaited with a generous bound. Every test method is
 * public, so a tier that cannot honour one clause (say, exact LRU order in a remote store) overrides it
 * and says why. The suite is one file of about 650 lines on purpose: an implementer reads the whole
 * contract in one place.
 */
public abstract class StorageTierContract {

    /** Full chunks the tier of {@link #tier()} has room for. */
    protected static final int BUDGET_CHUNKS = 4;

    private static final Duration PIN_TIMEOUT = Duration.ofMinutes(5);
    private static final long AWAIT_SECONDS = 60;

    private final List<StorageTier> openedTiers = new ArrayList<>();
    private Arena arena;
    private StorageTier tier;

    /**
     * A fresh, empty tier whose byte budget is {@code capacityBytes} and which accepts chunks of up to
     * {@link #chunkBytes()} bytes. The suite closes it after the test.
     */
    protected abstract StorageTier newTier(long capacityBytes);

    /** The largest chunk the tier must accept, in bytes; 64 KiB unless overridden. */
    protected int chunkBytes() {
        return 64 * 1024;
    }

    /** Budget bytes one chunk of {@code payloadBytes} costs: the payload itself unless overridden. */
    protected long chargedBytes(long payloadBytes) {
        return payloadBytes;
    }

    @BeforeEach
    protected final void openArena() {
        arena = Arena.ofShared();
    }

    @AfterEach
    protected final void closeTiersAndArena() {
        try {
            for (StorageTier t : openedTiers) {
                t.close();
            }
        } finally {
            openedTiers.clear();
            tier = null;
            arena.close();
        }
    }

    /** The tier of this test, with a budget of {@link #BUDGET_CHUNKS} full chunks; opened on first use. */
    protected final StorageTier tier() {
        if (tier == null) {
            tier = openTier(budgetBytes(BUDGET_CHUNKS));
        }
        return tier;
    }

    /** A further tier of {@code capacityBytes} from {@link #newTier}, closed after the test. */
    protected final StorageTier openTier(long capacityBytes) {
        StorageTier t = newTier(capacityBytes);
        assertNotNull(t, "newTier(" + capacityBytes + ")");
        openedTiers.add(t);
        return t;
    }

    /** The budget for exactly {@code chunks} full chunks. */
    protected final long budgetBytes(int chunks) {
        return chunks * chargedBytes(chunkBytes());
    }

    /** A deterministic key for {@code i}: SHA-256 of its four big-endian bytes. */
    public static ChunkKey key(int i) {
        try {
            return ChunkKey.of(MessageDigest.getInstance("SHA-256").digest(ByteBuffer.allocate(4).putInt(i).array()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /** {@code sizeBytes} pseudo-random bytes, equal for equal seeds. */
    public static byte[] payload(long seed, int sizeBytes) {
        byte[] bytes = new byte[sizeBytes];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    /** Fails unless {@code buffer} holds exactly {@code expected}, naming the first differing byte. */
    public static void assertChunkBytes(byte[] expected, ChunkBuffer buffer, String what) {
        MemorySegment actual = buffer.segment();
        long at = MemorySegment.ofArray(expected).mismatch(actual);
        if (at == -1) {
            return;
        }
        if (actual.byteSize() != expected.length) {
            fail(what + ": chunk " + buffer.key() + " holds " + actual.byteSize() + " bytes (expected: "
                    + expected.length + ")");
        }
        fail(what + ": chunk " + buffer.key() + " byte " + at + " is " + actual.get(ValueLayout.JAVA_BYTE, at)
                + " (expected: " + expected[(int) at] + ")");
    }

    /** A native copy of {@code bytes} that lives until the end of the test. */
    protected final MemorySegment nativeCopy(byte[] bytes) {
        MemorySegment s = arena.allocate(Math.max(1, bytes.length), 64).asSlice(0, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, 0, bytes.length);
        return s;
    }

    /** Puts {@code bytes} under {@code key}, requiring success. */
    protected final void putOrFail(StorageTier t, ChunkKey key, byte[] bytes) {
        assertTrue(t.put(key, nativeCopy(bytes)), () -> "put " + key + " (" + bytes.length + " bytes) into "
                + t.name() + " with room or evictable chunks");
    }

    /** Fails unless {@code key} is present with exactly {@code expected}. */
    protected static void assertStored(StorageTier t, ChunkKey key, byte[] expected) {
        Optional<ChunkBuffer> got = t.get(key);
        assertTrue(got.isPresent(), () -> "get " + key + " from " + t.name() + " (expected: present)");
        try (ChunkBuffer buffer = got.get()) {
            assertEquals(key, buffer.key(), "key of the returned buffer");
            assertChunkBytes(expected, buffer, "get " + key);
        }
    }

    private static void assertUsage(StorageTier t, long chunks, long usedBytes) {
        TierStats s = t.stats();
        assertEquals(chunks, s.chunks(), () -> "chunks of " + s);
        assertEquals(usedBytes, s.usedBytes(), () -> "usedBytes of " + s);
    }

    private static void assertWithinBudget(StorageTier t) {
        TierStats s = t.stats();
        assertTrue(s.usedBytes() <= s.capacityBytes(), () -> "usedBytes > capacityBytes in " + s);
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    public void freshTierIsEmptyAndReportsItsBudget() {
        TierStats s = tier().stats();
        assertEquals(new TierStats(tier().name(), 0, 0, budgetBytes(BUDGET_CHUNKS), 0, true), s);
        assertFalse(tier().name().isBlank(), "name");
    }

    @ParameterizedTest(name = "payload of {0} bytes")
    @ValueSource(strings = {"chunkBytes", "chunkBytes/3", "chunkBytes-1", "1"})
    public void putThenGetReturnsTheSameBytes(String size) {
        int bytes = switch (size) {
            case "chunkBytes" -> chunkBytes();
            case "chunkBytes/3" -> chunkBytes() / 3;
            case "chunkBytes-1" -> chunkBytes() - 1;
            default -> 1;
        };
        byte[] content = payload(bytes, bytes);
        putOrFail(tier(), key(1), content);
        assertTrue(tier().contains(key(1)), "contains after put");
        assertUsage(tier(), 1, chargedBytes(bytes));
        ChunkBuffer buffer = tier().get(key(1)).orElseThrow(() -> new AssertionError("get after put: miss"));
        try {
            assertEquals(key(1), buffer.key(), "key");
            assertEquals(bytes, buffer.sizeBytes(), "sizeBytes");
            assertChunkBytes(content, buffer, "get after put");
            assertTrue(buffer.segment().isReadOnly(), "segment is read-only");
            // The final FFM API (JDK 22+) reports a write to a read-only segment with IllegalArgumentException.
            assertThrows(IllegalArgumentException.class,
                    () -> buffer.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) ~content[0]), "write to segment");
            assertChunkBytes(content, buffer, "after a refused write");
        } finally {
            buffer.close();
        }
        buffer.close(); // closing twice is harmless
        assertStored(tier(), key(1), content);
        assertUsage(tier(), 1, chargedBytes(bytes));
    }

    @Test
    public void readIntoCopiesTheSameBytesAndSaysHowMany() {
        byte[] content = payload(11, chunkBytes() / 3);
        putOrFail(tier(), key(1), content);
        MemorySegment target = nativeCopy(new byte[chunkBytes()]);
        assertEquals(content.length, tier().readInto(key(1), target), "readInto returns the chunk's length");
        assertArrayEquals(content, target.asSlice(0, content.length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        assertEquals(-1, tier().readInto(key(2), target), "readInto of an absent key");
        MemorySegment small = nativeCopy(new byte[content.length - 1]);
        assertThrows(IllegalArgumentException.class, () -> tier().readInto(key(1), small));
        assertStored(tier(), key(1), content); // a too-small target is the caller's mistake, not corruption
    }

    @Test
    public void readAllIntoGivesEachTargetWhatReadIntoWould() {
        byte[][] contents = {payload(21, chunkBytes() / 3), payload(22, chunkBytes() / 2), payload(23, chunkBytes() / 4)};
        for (int i = 0; i < contents.length; i++) {
            putOrFail(tier(), key(i + 1), contents[i]);
        }
        List<ChunkKey> keys = List.of(key(1), key(9), key(2), key(3));
        List<MemorySegment> targets = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            targets.add(nativeCopy(new byte[chunkBytes()]));
        }
        long[] n = tier().readAllInto(keys, targets);
        assertEquals(keys.size(), n.length, "one length per key");
        assertEquals(-1, n[1], "readAllInto of an absent key");
        int[] chunkOf = {0, -1, 1, 2};
        for (int i : new int[] {0, 2, 3}) {
            byte[] content = contents[chunkOf[i]];
            assertEquals(content.length, n[i], "length of " + keys.get(i));
            assertArrayEquals(content, targets.get(i).asSlice(0, content.length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    "bytes of " + keys.get(i));
        }
        assertThrows(IllegalArgumentException.class, () -> tier().readAllInto(keys, targets.subList(0, 3)),
                "fewer targets than keys");
    }

    @Test
    public void getAllHoldsEachChunkAsGetDoesAndCloseAllReleasesThem() {
        int kept = BUDGET_CHUNKS - 1;
        for (int i = 0; i < kept; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
        }
        List<Integer> ids = new ArrayList<>(List.of(0, 77)); // any order, a miss between hits
        for (int i = kept - 1; i >= 1; i--) {
            ids.add(i);
        }
        List<Optional<ChunkBuffer>> got = tier().getAll(ids.stream().map(StorageTierContract::key).toList());
        assertEquals(ids.size(), got.size(), "getAll answers one element per key");
        List<ChunkBuffer> held = new ArrayList<>();
        try {
            for (int i = 0; i < ids.size(); i++) {
                if (ids.get(i) == 77) {
                    assertTrue(got.get(i).isEmpty(), "getAll of an absent key");
                } else {
                    held.add(got.get(i).orElseThrow(() -> new AssertionError("getAll of a stored key is a miss")));
                    assertEquals(key(ids.get(i)), held.getLast().key(), "element " + i);
                }
            }
            for (int i = 100; i < 100 + 2 * BUDGET_CHUNKS; i++) { // one chunk's room left: the held ones stay
                putOrFail(tier(), key(i), payload(i, chunkBytes()));
                assertWithinBudget(tier());
            }
            for (int i = 0, h = 0; i < ids.size(); i++) {
                if (ids.get(i) != 77) {
                    assertChunkBytes(payload(ids.get(i), chunkBytes()), held.get(h++), "chunk " + ids.get(i) + " held by getAll");
                }
            }
        } finally {
            tier().closeAll(held);
        }
        for (int i = 200; i < 200 + BUDGET_CHUNKS; i++) { // released: every chunk may go now
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
        }
        for (int i = 200; i < 200 + BUDGET_CHUNKS; i++) {
            assertStored(tier(), key(i), payload(i, chunkBytes()));
        }
        assertWithinBudget(tier());
    }

    @Test
    public void absentKeyIsAMiss() {
        putOrFail(tier(), key(1), payload(1, chunkBytes()));
        Optional<ChunkBuffer> got = tier().get(key(2));
        assertNotNull(got, "get of an absent key");
        assertTrue(got.isEmpty(), "get of an absent key");
        assertFalse(tier().contains(key(2)), "contains of an absent key");
        assertFalse(tier().remove(key(2)), "remove of an absent key");
        assertFalse(tier().pin(key(2), PIN_TIMEOUT), "pin of an absent key");
        tier().unpin(key(2)); // no effect
        tier().unpin(key(1)); // not pinned: no effect
        assertUsage(tier(), 1, chargedBytes(chunkBytes()));
    }

    @Test
    public void putOfPresentKeyKeepsTheStoredChunk() {
        byte[] first = payload(1, chunkBytes());
        putOrFail(tier(), key(1), first);
        assertUsage(tier(), 1, chargedBytes(chunkBytes()));
        assertTrue(tier().put(key(1), nativeCopy(payload(2, chunkBytes()))), "second put of a present key");
        assertTrue(tier().put(key(1), nativeCopy(payload(3, chunkBytes() / 2))), "third put, another size");
        assertStored(tier(), key(1), first);
        assertUsage(tier(), 1, chargedBytes(chunkBytes()));
    }

    @Test
    public void removeMakesAbsentAndFreesTheBudget() {
        putOrFail(tier(), key(1), payload(1, chunkBytes()));
        long before = tier().stats().usedBytes();
        putOrFail(tier(), key(2), payload(2, chunkBytes() / 3));
        assertUsage(tier(), 2, chargedBytes(chunkBytes()) + chargedBytes(chunkBytes() / 3));
        assertTrue(tier().remove(key(2)), "remove of a present key");
        assertFalse(tier().contains(key(2)), "contains after remove");
        assertTrue(tier().get(key(2)).isEmpty(), "get after remove");
        assertFalse(tier().remove(key(2)), "second remove");
        assertUsage(tier(), 1, before);
        assertStored(tier(), key(1), payload(1, chunkBytes()));
    }

    @Test
    public void removeWhileHeldLeavesTheReaderItsBytes() throws Exception {
        byte[] content = payload(1, chunkBytes());
        putOrFail(tier(), key(1), content);
        ChunkBuffer held = tier().get(key(1)).orElseThrow();
        ExecutorService helper = Executors.newSingleThreadExecutor();
        try {
            // The SPI lets remove wait for readers; run it beside the reader so either way is fine.
            Future<Boolean> removed = helper.submit(() -> tier().remove(key(1)));
            assertChunkBytes(content, held, "held buffer during remove");
            held.close();
            assertTrue(removed.get(AWAIT_SECONDS, TimeUnit.SECONDS), "remove of a held chunk");
        } finally {
            held.close();
            shutdownOrFail(helper);
        }
        assertFalse(tier().contains(key(1)), "contains after remove");
        assertUsage(tier(), 0, 0);
    }

    @Test
    public void callerMayReuseThePayloadAfterPut() {
        byte[] content = payload(1, chunkBytes());
        MemorySegment src = nativeCopy(content);
        assertTrue(tier().put(key(1), src), "put");
        src.fill((byte) 0x55);
        assertStored(tier(), key(1), content);
        assertTrue(tier().put(key(2), src), "put of the reused payload under another key");
        assertStored(tier(), key(1), content);
    }

    @Test
    public void budgetIsNeverExceeded() {
        int n = 10;
        for (int i = 0; i < n; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
            assertWithinBudget(tier());
        }
        int present = 0;
        for (int i = 0; i < n; i++) {
            if (tier().contains(key(i))) {
                present++;
                assertStored(tier(), key(i), payload(i, chunkBytes()));
            }
        }
        assertTrue(present <= BUDGET_CHUNKS, present + " chunks present (expected: at most " + BUDGET_CHUNKS + ")");
        assertTrue(tier().contains(key(n - 1)), "the chunk put last is present");
        assertUsage(tier(), present, present * chargedBytes(chunkBytes()));
    }

    @Test
    public void leastRecentlyUsedIsEvictedFirst() {
        for (int i = 0; i < BUDGET_CHUNKS; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
        }
        tier().get(key(0)).orElseThrow().close(); // touch A
        putOrFail(tier(), key(BUDGET_CHUNKS), payload(BUDGET_CHUNKS, chunkBytes()));
        assertFalse(tier().contains(key(1)), "B, the least recently used, is evicted");
        assertTrue(tier().contains(key(0)), "A, touched by get, stays");
        assertTrue(tier().contains(key(BUDGET_CHUNKS)), "E, put last, is present");
        assertStored(tier(), key(0), payload(0, chunkBytes()));
        assertWithinBudget(tier());
    }

    @Test
    public void containsDoesNotTouchRecency() {
        for (int i = 0; i < BUDGET_CHUNKS; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
        }
        assertTrue(tier().contains(key(0)), "contains A");
        putOrFail(tier(), key(BUDGET_CHUNKS), payload(BUDGET_CHUNKS, chunkBytes()));
        assertFalse(tier().contains(key(0)), "A, only probed with contains, is evicted");
        assertTrue(tier().contains(key(1)), "B stays");
    }

    @Test
    public void pinnedChunkSurvivesEvictionUntilUnpinned() {
        byte[] a = payload(-1, chunkBytes());
        putOrFail(tier(), key(-1), a);
        assertTrue(tier().pin(key(-1), PIN_TIMEOUT), "pin of a present key");
        for (int i = 0; i < 3 * BUDGET_CHUNKS; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
            assertWithinBudget(tier());
        }
        assertStored(tier(), key(-1), a);
        tier().unpin(key(-1));
        for (int i = 100; i < 100 + 2 * BUDGET_CHUNKS; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
            assertWithinBudget(tier());
        }
        assertFalse(tier().contains(key(-1)), "unpinned A is evicted by newer chunks");
    }

    /** Regression (pool tier): a pin outlived its chunk, so the same key put again could not be evicted. */
    @Test
    public void aPinEndsWithItsChunkWhenRemovedOrCleared() {
        for (boolean clear : new boolean[] {false, true}) {
            putOrFail(tier(), key(-1), payload(-1, chunkBytes()));
            assertTrue(tier().pin(key(-1), PIN_TIMEOUT), "pin of a present key");
            if (clear) {
                tier().clear();
            } else {
                assertTrue(tier().remove(key(-1)), "remove of a pinned chunk");
            }
            putOrFail(tier(), key(-1), payload(-1, chunkBytes()));
            for (int i = 0; i < 2 * BUDGET_CHUNKS; i++) {
                putOrFail(tier(), key(i), payload(i, chunkBytes()));
            }
            assertFalse(tier().contains(key(-1)), "the chunk put again after " + (clear ? "clear" : "remove") + " is evicted: unpinned");
            tier().unpin(key(-1)); // the engine's unpin of the ended pin: no effect
            tier().clear();
        }
    }

    @Test
    public void pinsNest() {
        putOrFail(tier(), key(-1), payload(-1, chunkBytes()));
        assertTrue(tier().pin(key(-1), PIN_TIMEOUT), "first pin");
        assertTrue(tier().pin(key(-1), PIN_TIMEOUT), "second pin");
        tier().unpin(key(-1));
        for (int i = 0; i < 2 * BUDGET_CHUNKS; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
        }
        assertStored(tier(), key(-1), payload(-1, chunkBytes()));
        tier().unpin(key(-1));
        for (int i = 100; i < 100 + 2 * BUDGET_CHUNKS; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
        }
        assertFalse(tier().contains(key(-1)), "evicted after the last unpin");
    }

    @Test
    public void putIsRefusedWhenEveryChunkIsPinnedOrHeld() {
        for (int i = 0; i < BUDGET_CHUNKS; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes()));
        }
        List<ChunkBuffer> held = new ArrayList<>();
        try {
            for (int i = 0; i < BUDGET_CHUNKS; i++) {
                if (i % 2 == 0) {
                    assertTrue(tier().pin(key(i), PIN_TIMEOUT), "pin " + i);
                } else {
                    held.add(tier().get(key(i)).orElseThrow());
                }
            }
            long used = tier().stats().usedBytes();
            assertFalse(tier().put(key(99), nativeCopy(payload(99, chunkBytes()))), "put with no evictable chunk");
            assertFalse(tier().contains(key(99)), "refused chunk is absent");
            assertUsage(tier(), BUDGET_CHUNKS, used);
            ChunkBuffer released = held.removeFirst();
            released.close();
            putOrFail(tier(), key(99), payload(99, chunkBytes()));
            assertFalse(tier().contains(released.key()), "the released chunk was the only one evictable");
            for (int i = 0; i < BUDGET_CHUNKS; i += 2) {
                assertStored(tier(), key(i), payload(i, chunkBytes()));
            }
        } finally {
            held.forEach(ChunkBuffer::close);
        }
        assertWithinBudget(tier());
    }

    @Test
    public void heldChunkIsNeverOverwritten() {
        byte[] a = payload(-1, chunkBytes());
        putOrFail(tier(), key(-1), a);
        try (ChunkBuffer held = tier().get(key(-1)).orElseThrow()) {
            for (int i = 0; i < 3 * BUDGET_CHUNKS; i++) {
                putOrFail(tier(), key(i), payload(i, chunkBytes()));
                assertWithinBudget(tier());
                assertChunkBytes(a, held, "held buffer after put " + i);
            }
            for (int i = 0; i < 3 * BUDGET_CHUNKS; i++) {
                if (tier().contains(key(i))) {
                    assertStored(tier(), key(i), payload(i, chunkBytes()));
                }
            }
            tier().clear();
            assertChunkBytes(a, held, "held buffer after clear");
        }
        assertUsage(tier(), 0, 0);
    }

    @Test
    public void payloadLargerThanTheBudgetIsRefused() {
        putOrFail(tier(), key(1), payload(1, chunkBytes()));
        TierStats before = tier().stats();
        int huge = Math.toIntExact(before.capacityBytes() + 1);
        assertRefusedOrStored(key(2), payload(2, huge), false);
        assertUsage(tier(), before.chunks(), before.usedBytes());
        assertStored(tier(), key(1), payload(1, chunkBytes()));
    }

    @Test
    public void payloadLargerThanChunkBytesIsStoredExactlyOrRefused() {
        putOrFail(tier(), key(1), payload(1, chunkBytes()));
        assertRefusedOrStored(key(2), payload(2, chunkBytes() + 1), true);
        assertStored(tier(), key(1), payload(1, chunkBytes()));
        assertWithinBudget(tier());
    }

    private void assertRefusedOrStored(ChunkKey key, byte[] content, boolean mayStore) {
        TierStats before = tier().stats();
        boolean stored;
        try {
            stored = tier().put(key, nativeCopy(content));
        } catch (IllegalArgumentException refused) {
            stored = false;
        }
        if (stored && mayStore) {
            assertStored(tier(), key, content);
            return;
        }
        assertFalse(stored, "put of " + content.length + " bytes into a budget of " + before.capacityBytes());
        assertFalse(tier().contains(key), "contains after a refused put");
        assertUsage(tier(), before.chunks(), before.usedBytes());
    }

    @Test
    public void clearEmptiesTheTier() {
        for (int i = 0; i < 3; i++) {
            putOrFail(tier(), key(i), payload(i, chunkBytes() / (i + 1)));
        }
        assertTrue(tier().pin(key(0), PIN_TIMEOUT), "pin");
        tier().clear();
        assertUsage(tier(), 0, 0);
        for (int i = 0; i < 3; i++) {
            assertFalse(tier().contains(key(i)), "contains " + i + " after clear");
        }
        putOrFail(tier(), key(7), payload(7, chunkBytes()));
        assertStored(tier(), key(7), payload(7, chunkBytes()));
        assertUsage(tier(), 1, chargedBytes(chunkBytes()));
    }

    @Test
    public void closeIsIdempotentAndLaterCallsMissOrThrowIllegalState() {
        StorageTier t = tier();
        putOrFail(t, key(1), payload(1, chunkBytes()));
        assertTrue(t.pin(key(1), PIN_TIMEOUT), "pin");
        t.close();
        t.close();
        MemorySegment src = nativeCopy(payload(2, chunkBytes()));
        missOrIllegalState("get", () -> t.get(key(1)), got -> got != null && got.isEmpty());
        missOrIllegalState("contains", () -> t.contains(key(1)), present -> !present);
        missOrIllegalState("put", () -> t.put(key(2), src), stored -> !stored);
        missOrIllegalState("remove", () -> t.remove(key(1)), removed -> !removed);
        missOrIllegalState("pin", () -> t.pin(key(1), PIN_TIMEOUT), pinned -> !pinned);
        missOrIllegalState("unpin", () -> { t.unpin(key(1)); return true; }, done -> true);
        missOrIllegalState("clear", () -> { t.clear(); return true; }, done -> true);
        missOrIllegalState("stats", t::stats, stats -> true);
        t.close();
    }

    private static <T> void missOrIllegalState(String op, Supplier<T> call, Predicate<T> isMiss) {
        T result;
        try {
            result = call.get();
        } catch (IllegalStateException expected) {
            return;
        } catch (RuntimeException e) {
            throw new AssertionError(op + " after close threw " + e + " (expected: a miss or IllegalStateException)", e);
        }
        assertTrue(isMiss.test(result), op + " after close returned " + result + " (expected: a miss)");
    }

    @Test
    public void closeWhileHeldIsSafe() throws Exception {
        byte[] content = payload(1, chunkBytes());
        putOrFail(tier(), key(1), content);
        ChunkBuffer held = tier().get(key(1)).orElseThrow();
        ExecutorService helper = Executors.newSingleThreadExecutor();
        try {
            // close may wait for the reader or free at once; run it beside the reader so either is fine.
            Future<?> closed = helper.submit(tier()::close);
            try {
                assertChunkBytes(content, held, "held buffer while the tier closes");
            } catch (IllegalStateException freedUnderReader) {
                // acceptable: the memory is gone and access says so (no crash, no stale bytes)
            }
            held.close();
            held.close();
            awaitIgnoringInterrupts(closed, "close of a tier with a reader");
        } finally {
            held.close();
            Thread.interrupted(); // see awaitIgnoringInterrupts
            shutdownOrFail(helper);
        }
    }

    /**
     * Waits for {@code task}, ignoring interrupts of this thread: HotSpot interrupts a thread that reads
     * a shared arena's memory while another thread closes that arena (the async exception that makes the
     * read throw also sets the interrupt flag), which is a JDK artifact, not a failure of the tier.
     */
    private static void awaitIgnoringInterrupts(Future<?> task, String what) throws ExecutionException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(AWAIT_SECONDS);
        for (;;) {
            try {
                task.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                return;
            } catch (InterruptedException jdkArtifact) {
                // retry until the deadline
            } catch (TimeoutException e) {
                task.cancel(true);
                fail(what + " did not finish within " + AWAIT_SECONDS + " s (deadlock?)");
            }
        }
    }

    @Test
    public void concurrentOperationsServeOnlyExactBytes() throws Exception {
        int keys = 32;
        int threads = 4;
        int opsPerThread = 300;
        StorageTier t = openTier(budgetBytes(8));
        byte[][] contents = new byte[keys][];
        MemorySegment[] sources = new MemorySegment[keys];
        for (int k = 0; k < keys; k++) {
            contents[k] = payload(1000 + k, k % 4 == 3 ? chunkBytes() / 2 : chunkBytes());
            sources[k] = nativeCopy(contents[k]);
        }
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        for (int w = 0; w < threads; w++) {
            long seed = 42 + w;
            pool.execute(() -> {
                try {
                    start.await();
                    SplittableRandom random = new SplittableRandom(seed);
                    for (int op = 0; op < opsPerThread; op++) {
                        int k = random.nextInt(keys);
                        switch (random.nextInt(10)) {
                            case 0, 1, 2, 3 -> t.put(key(k), sources[k]);
                            case 4, 5, 6 -> t.get(key(k)).ifPresent(b -> verify(b, contents[k], failures));
                            case 7 -> t.remove(key(k));
                            case 8 -> t.contains(key(k));
                            default -> {
                                if (t.pin(key(k), PIN_TIMEOUT)) {
                                    t.get(key(k)).ifPresent(b -> verify(b, contents[k], failures));
                                    t.unpin(key(k));
                                }
                            }
                        }
                        TierStats s = t.stats();
                        if (s.usedBytes() > s.capacityBytes()) {
                            failures.add("usedBytes > capacityBytes after an op on key " + k + ": " + s);
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
        }
        start.countDown();
        pool.shutdown();
        if (!pool.awaitTermination(AWAIT_SECONDS, TimeUnit.SECONDS)) {
            pool.shutdownNow();
            fail("concurrent operations did not finish within " + AWAIT_SECONDS + " s (deadlock?)");
        }
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError(errors.size() + " unexpected exceptions, first: " + errors.peek());
            errors.forEach(e::addSuppressed);
            throw e;
        }
        assertTrue(failures.isEmpty(), () -> failures.size() + " failures, first: " + failures.peek());
        int present = 0;
        long charged = 0;
        for (int k = 0; k < keys; k++) {
            if (t.contains(key(k))) {
                present++;
                charged += chargedBytes(contents[k].length);
                assertStored(t, key(k), contents[k]);
            }
        }
        assertUsage(t, present, charged);
        assertWithinBudget(t);
    }

    private static void verify(ChunkBuffer buffer, byte[] expected, ConcurrentLinkedQueue<String> failures) {
        try (buffer) {
            long at = MemorySegment.ofArray(expected).mismatch(buffer.segment());
            if (at != -1) {
                failures.add("chunk " + buffer.key() + " differs at byte " + at + " of " + buffer.sizeBytes()
                        + " (expected length " + expected.length + ")");
            }
        }
    }

    private static void shutdownOrFail(ExecutorService helper) throws InterruptedException {
        helper.shutdown();
        if (!helper.awaitTermination(AWAIT_SECONDS, TimeUnit.SECONDS)) {
            helper.shutdownNow();
            fail("helper thread did not finish within " + AWAIT_SECONDS + " s (deadlock?)");
        }
    }
}
