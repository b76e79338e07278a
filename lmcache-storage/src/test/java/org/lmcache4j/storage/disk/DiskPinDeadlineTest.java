package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.disk.DiskTierTest.CHUNK;
import static org.lmcache4j.storage.disk.DiskTierTest.FINGERPRINT;
import static org.lmcache4j.storage.disk.DiskTierTest.charged;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.spi.ChunkBuffer;

/**
 * A disk tier pin's deadline, on a test clock: a timeout too long for nanoseconds pins without end
 * instead of throwing ArithmeticException, and nested pins keep the latest deadline when the nanosecond
 * clock wraps past {@code Long.MAX_VALUE} (deadlines compared by difference, as {@link System#nanoTime}
 * requires, not by {@code Math.max}). Each test pins chunk 0 of two, makes it the least recently used,
 * and checks a third put evicts chunk 1 instead.
 */
class DiskPinDeadlineTest {

    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong();
    private Arena arena;
    private DiskTier tier;

    @BeforeEach
    void open() {
        arena = Arena.ofShared();
    }

    @AfterEach
    void close() {
        tier.close();
        arena.close();
    }

    private void openTierAt(long nanos) {
        clock.set(nanos);
        tier = new DiskTier(dir, 2 * charged(CHUNK), FINGERPRINT, false, clock::get, FileSystemDiskIo.INSTANCE);
        put(0);
        put(1);
    }

    private void put(int i) {
        byte[] bytes = payload(i, CHUNK);
        MemorySegment s = arena.allocate(bytes.length, 64);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, 0, bytes.length);
        assertTrue(tier.put(key(i), s), "put " + i);
    }

    /** Reads chunk 1, so chunk 0 is the least recently used, then puts chunk 2, which evicts one of them. */
    private void evictOne() {
        try (ChunkBuffer b = tier.get(key(1)).orElseThrow()) {
            assertTrue(b.segment().byteSize() > 0);
        }
        put(2);
    }

    @Test
    void aTimeoutTooLongForNanosecondsPinsWithoutEnd() {
        openTierAt(1_000_000_000L);
        assertTrue(tier.pin(key(0), Duration.ofSeconds(Long.MAX_VALUE)), "pin for ever");
        clock.addAndGet(Duration.ofDays(365L * 200).toNanos());
        evictOne();
        assertTrue(tier.contains(key(0)), "the pinned chunk stays");
        assertFalse(tier.contains(key(1)), "the other one is evicted");
    }

    @Test
    void nestedPinsKeepTheLatestDeadlineAcrossTheClockWrap() {
        openTierAt(Long.MAX_VALUE - 1_000);
        assertTrue(tier.pin(key(0), Duration.ofNanos(500)), "short pin");
        assertTrue(tier.pin(key(0), Duration.ofSeconds(10)), "nested long pin, its deadline past the wrap");
        clock.addAndGet(Duration.ofSeconds(5).toNanos());
        evictOne();
        assertTrue(tier.contains(key(0)), "pinned for 10 s: the pinned chunk stays 5 s later");
        assertFalse(tier.contains(key(1)), "the other one is evicted");
    }
}
