package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.PrefixPin;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.disk.DiskTiers;
import org.lmcache4j.storage.tier.DiskChunkFormat;

/**
 * Regression: a pin handle's deadline was taken after its chunks were pinned, so between a tier letting
 * the first chunk's pin lapse and the handle's later deadline, another {@code lookupAndPin} could pin the
 * chunk afresh (the tier restarts its count) and the old handle's close then ended that newer pin. A
 * clock that moves on every read opens the window the way a slow pin walk does.
 */
class StaleUnpinTest {

    private static final long TIMEOUT_MS = 1_000;
    private static final long TIMEOUT_NANOS = TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
    private static final long STEP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int PROMPT_CHUNKS = 10;
    private static final int ROOM_CHUNKS = 12;

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private volatile boolean ticking;

    @TempDir
    Path dir;

    /** The test's clock: one step later on every read while ticking, still otherwise. */
    private long read() {
        return ticking ? clock.addAndGet(STEP_NANOS) : clock.get();
    }

    /** An engine whose only tier is the cpu tier, on the test's clock. */
    private TieredCacheEngine cpuEngine() {
        return new TieredCacheEngine(Engines.config().maxLocalCpuBytes(ROOM_CHUNKS * CHUNK_BYTES).pinTimeoutMillis(TIMEOUT_MS)
                .build(), SMALL, this::read);
    }

    /** An engine whose only tier is a disk tier, the engine and the disk on the test's clock. */
    private TieredCacheEngine diskEngine() {
        long fileBytes = DiskChunkFormat.fileBytes(CHUNK_BYTES);
        StorageTier disk = DiskTiers.open(dir, ROOM_CHUNKS * fileBytes, SMALL.fingerprint(), false, this::read);
        return new TieredCacheEngine(Engines.config().localCpu(false).pinTimeoutMillis(TIMEOUT_MS).build(), SMALL,
                this::read, UnaryOperator.identity(), List.of(disk));
    }

    @Test
    void aStaleCloseDoesNotEndANewerPinInTheCpuTier() {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = cpuEngine()) {
            assertAStaleCloseSparesTheNewerPin(engine, arena);
        }
    }

    @Test
    void aStaleCloseDoesNotEndANewerPinInTheDiskTier() {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine engine = diskEngine()) {
            assertAStaleCloseSparesTheNewerPin(engine, arena);
        }
    }

    @Test
    void aCloseBeforeTheDeadlineStillEndsThePins() {
        try (Arena arena = Arena.ofShared(); TieredCacheEngine cpu = cpuEngine()) {
            assertACloseInTimeUnpins(cpu, arena);
        }
        try (Arena arena = Arena.ofShared(); TieredCacheEngine disk = diskEngine()) {
            assertACloseInTimeUnpins(disk, arena);
        }
    }

    private void assertACloseInTimeUnpins(TieredCacheEngine engine, Arena arena) {
        int[] prompt = Engines.storePrompt(engine, arena, 1, PROMPT_CHUNKS);
        ticking = true;
        PrefixPin pin = engine.lookupAndPin(prompt);
        ticking = false;
        assertEquals(prompt.length, pin.tokens());
        clock.addAndGet(TIMEOUT_NANOS / 2);
        pin.close();
        for (int seed = 100; seed < 100 + ROOM_CHUNKS + 2; seed++) {
            Engines.storePrompt(engine, arena, seed, 1);
        }
        assertEquals(0, engine.lookup(prompt), "a close half way through the timeout left every chunk evictable");
    }

    private void assertAStaleCloseSparesTheNewerPin(TieredCacheEngine engine, Arena arena) {
        int[] prompt = Engines.storePrompt(engine, arena, 1, PROMPT_CHUNKS);
        int[] first = Arrays.copyOf(prompt, CHUNK);
        assertEquals(prompt.length, engine.lookup(prompt));

        long start = clock.get();
        ticking = true;
        PrefixPin stale = engine.lookupAndPin(prompt);
        ticking = false;
        assertEquals(prompt.length, stale.tokens());
        long ticks = (clock.get() - start) / STEP_NANOS;
        assertTrue(ticks >= PROMPT_CHUNKS, "each pin read the clock: " + ticks);

        // Half way through the walk's length past the timeout: the tier's pin of the first chunk (taken in
        // the walk's first steps) has lapsed; pins of later chunks may not have.
        clock.set(start + TIMEOUT_NANOS + ticks / 2 * STEP_NANOS);
        try (PrefixPin fresh = engine.lookupAndPin(first)) {
            assertEquals(CHUNK, fresh.tokens());
            stale.close();
            clock.addAndGet(ticks * STEP_NANOS); // every pin of the stale handle has lapsed; the fresh one holds
            for (int seed = 100; seed < 100 + ROOM_CHUNKS + 2; seed++) {
                Engines.storePrompt(engine, arena, seed, 1);
            }
            assertEquals(CHUNK, engine.lookup(first), "the fresh pin still holds the first chunk");
            assertEquals(CHUNK, engine.lookup(prompt), "the chunks no pin holds any more were evicted");
        }
    }
}
