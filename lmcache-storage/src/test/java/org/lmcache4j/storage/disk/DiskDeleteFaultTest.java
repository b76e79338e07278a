package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.disk.DiskTierTest.CHUNK;
import static org.lmcache4j.storage.disk.DiskTierTest.FINGERPRINT;
import static org.lmcache4j.storage.disk.DiskTierTest.assertServed;
import static org.lmcache4j.storage.disk.DiskTierTest.charged;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lmcache4j.api.TierStats;

/**
 * The disk tier when deleting a chunk's file fails, through {@link FaultyDiskIo}: with an
 * {@link IOException}, or with a RuntimeException as a faulty {@link DiskIo} might throw. A key whose
 * deletion is under way is busy and a put of it waits for the deletion's end, so every deletion must
 * end whatever is thrown: after a failed clear, eviction, removal or corrupt read, a put of any of the
 * keys returns (within {@link #BOUND}, so a regression fails instead of hanging) and the budget counts
 * only the chunks indexed. Regression: a clear or an eviction whose first deletion threw a
 * RuntimeException left the later keys busy forever, and so did an eviction listener throwing an Error.
 */
class DiskDeleteFaultTest {

    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final List<DiskTier> opened = new ArrayList<>();
    private final FaultyDiskIo io = new FaultyDiskIo();
    private Arena arena;

    @BeforeEach
    void openArena() {
        arena = Arena.ofShared();
    }

    @AfterEach
    void closeAll() {
        opened.forEach(DiskTier::close);
        arena.close();
    }

    private DiskTier open(long capacityBytes) {
        DiskTier t = new DiskTier(dir, capacityBytes, FINGERPRINT, true, System::nanoTime, io);
        opened.add(t);
        return t;
    }

    private boolean tryPut(DiskTier t, int i, int sizeBytes) {
        byte[] bytes = payload(i, sizeBytes);
        MemorySegment s = arena.allocate(bytes.length, 64);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, 0, bytes.length);
        return t.put(key(i), s);
    }

    /** Puts chunk {@code i}, failing the test if the put is refused or does not return within {@link #BOUND}. */
    private void put(DiskTier t, int i, int sizeBytes) {
        assertTrue(assertTimeoutPreemptively(BOUND, () -> tryPut(t, i, sizeBytes), "put " + i + " returned (its key was busy)"),
                "put " + i);
    }

    private static Class<? extends Exception> failure(boolean unchecked) {
        return unchecked ? UncheckedIOException.class : IOException.class;
    }

    @ParameterizedTest(name = "unchecked {0}")
    @ValueSource(booleans = {false, true})
    void aClearWhoseDeletionsFailEndsThemAll(boolean unchecked) {
        DiskTier t = open(8 * charged(CHUNK));
        for (int i = 0; i < 4; i++) {
            put(t, i, CHUNK);
        }
        io.failDeletes(true, unchecked);
        if (unchecked) {
            assertThrows(UncheckedIOException.class, t::clear);
        } else {
            t.clear();
        }
        // an eighth of the budget, one chunk's file, is kept as a spare (a rename, which does not fail here)
        assertEquals(1, t.spareFiles(), "spare files after the clear");
        assertEquals(new TierStats("disk", 0, 0, 8 * charged(CHUNK), unchecked ? 0 : 3, true), t.stats(),
                "stats after the clear (files left until the next start; " + failure(unchecked).getSimpleName() + "s)");
        io.failDeletes(false, false);
        for (int i = 3; i >= 0; i--) {
            put(t, i, CHUNK);
        }
        assertEquals(4 * charged(CHUNK), t.stats().usedBytes(), "usedBytes after storing the four again");
        assertServed(t, 0, CHUNK);
    }

    @ParameterizedTest(name = "unchecked {0}")
    @ValueSource(booleans = {false, true})
    void anEvictionWhoseDeletionsFailEndsThemAll(boolean unchecked) {
        long capacity = 4 * charged(CHUNK / 2);
        DiskTier t = open(capacity);
        for (int i = 0; i < 4; i++) {
            put(t, i, CHUNK / 2);
        }
        io.failDeletes(true, unchecked);
        // one whole chunk needs the room of two halves: chunks 0 and 1 are the victims
        assertThrows(UncheckedIOException.class, () -> tryPut(t, 9, CHUNK));
        assertFalse(t.contains(key(0)) || t.contains(key(1)), "the victims left the index");
        assertEquals(2, t.stats().chunks(), "chunks after the failed put");
        assertEquals(2 * charged(CHUNK / 2), t.stats().usedBytes(), "usedBytes after the failed put: its reservation returned");
        io.failDeletes(false, false);
        put(t, 1, CHUNK / 2);
        put(t, 0, CHUNK / 2);
        assertEquals(new TierStats("disk", 4, capacity, capacity, 0, true), t.stats(), "stats with the victims stored again");
        assertServed(t, 1, CHUNK / 2);
    }

    @Test
    void anEvictionListenerThrowingAnErrorLeavesNoKeyBusy() {
        long capacity = 2 * charged(CHUNK);
        DiskTier t = open(capacity);
        put(t, 0, CHUNK);
        put(t, 1, CHUNK);
        t.onEviction(k -> {
            throw new AssertionError("eviction listener failed (test)");
        });
        AssertionError e = assertThrows(AssertionError.class, () -> tryPut(t, 2, CHUNK));
        assertEquals("eviction listener failed (test)", e.getMessage());
        assertEquals(new TierStats("disk", 1, charged(CHUNK), capacity, 0, true), t.stats(), "stats after the failed put");
        t.onEviction(null);
        put(t, 0, CHUNK);
        assertEquals(new TierStats("disk", 2, capacity, capacity, 0, true), t.stats(), "stats with the victim stored again");
        assertServed(t, 0, CHUNK);
    }

    @ParameterizedTest(name = "unchecked {0}")
    @ValueSource(booleans = {false, true})
    void aRemovalOrCorruptReadWhoseDeletionFailsEndsIt(boolean unchecked) throws IOException {
        long capacity = 4 * charged(CHUNK);
        DiskTier t = open(capacity);
        put(t, 0, CHUNK);
        put(t, 1, CHUNK);
        try (FileChannel ch = FileChannel.open(t.pathOf(key(1)).orElseThrow(), StandardOpenOption.WRITE)) {
            ch.truncate(charged(CHUNK) - 1); // torn: a miss, deleted
        }
        io.failDeletes(true, unchecked);
        if (unchecked) {
            assertThrows(UncheckedIOException.class, () -> t.remove(key(0)));
            assertThrows(UncheckedIOException.class, () -> t.get(key(1)));
        } else {
            assertTrue(t.remove(key(0)));
            assertTrue(t.get(key(1)).isEmpty(), "a torn file is a miss");
        }
        assertEquals(0, t.stats().chunks(), "chunks after the removal and the corrupt read");
        assertEquals(0, t.stats().usedBytes(), "usedBytes after the removal and the corrupt read");
        io.failDeletes(false, false);
        put(t, 0, CHUNK);
        put(t, 1, CHUNK);
        assertEquals(2 * charged(CHUNK), t.stats().usedBytes(), "usedBytes with both stored again");
        assertServed(t, 1, CHUNK);
    }
}
