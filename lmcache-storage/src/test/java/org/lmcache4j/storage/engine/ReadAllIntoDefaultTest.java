package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;

/**
 * {@link StorageTier#readAllInto}'s default, which every tier without its own batch read has: a chunk that
 * fails after the first ends the batch as a miss and keeps what was read before it; a failure of the first,
 * and a target too small for its chunk, are thrown.
 */
class ReadAllIntoDefaultTest {

    private static final int CHUNK = 4096 + 7;
    private static final int CHUNKS = 4;

    private final BrokenAtTier tier = new BrokenAtTier();
    private Arena arena;
    private List<ChunkKey> keys;
    private List<MemorySegment> targets;

    @BeforeEach
    void fill() {
        arena = Arena.ofConfined();
        keys = new ArrayList<>();
        targets = new ArrayList<>();
        for (int i = 0; i < CHUNKS; i++) {
            assertTrue(tier.put(key(i), MemorySegment.ofArray(payload(i, CHUNK))));
            keys.add(key(i));
            targets.add(arena.allocate(CHUNK));
        }
    }

    @AfterEach
    void release() {
        arena.close();
        tier.release();
    }

    @Test
    void aFailureAfterTheFirstChunkIsAMissThereAndKeepsTheChunksBefore() {
        tier.broken = key(2);
        long[] n = tier.readAllInto(keys, targets);
        assertArrayEquals(new long[] {CHUNK, CHUNK, -1, -1}, n);
        for (int i = 0; i < 2; i++) {
            assertEquals(-1, targets.get(i).mismatch(MemorySegment.ofArray(payload(i, CHUNK))), "chunk " + i);
        }
        assertEquals(3, tier.reads, "the batch ends at the failure: chunk 3 is not read");
    }

    @Test
    void aFailureOfTheFirstChunkIsThrown() {
        tier.broken = key(0);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> tier.readAllInto(keys, targets));
        assertTrue(e.getMessage().contains("broken"), e.getMessage());
    }

    @Test
    void aTargetTooSmallIsThrownWhereverItIs() {
        targets.set(1, arena.allocate(CHUNK - 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tier.readAllInto(keys, targets));
        assertTrue(e.getMessage().contains(String.valueOf(CHUNK - 1)), e.getMessage());
    }

    @Test
    void aBatchWithNoFailureReadsEveryChunkAndMissesTheAbsent() {
        keys.set(3, key(99));
        long[] n = tier.readAllInto(keys, targets);
        assertArrayEquals(new long[] {CHUNK, CHUNK, CHUNK, -1}, n);
        assertEquals(-1, targets.get(2).mismatch(MemorySegment.ofArray(payload(2, CHUNK))));
    }

    /** A tier with the default batch read whose {@code get} of one key fails as a broken file would. */
    private static final class BrokenAtTier extends SharedTestTier {

        volatile ChunkKey broken;
        int reads;

        BrokenAtTier() {
            super(16L * CHUNK * CHUNKS, CHUNK);
        }

        @Override
        public String name() {
            return "test";
        }

        @Override
        public Optional<ChunkBuffer> get(ChunkKey key) {
            reads++;
            if (key.equals(broken)) {
                throw new UncheckedIOException(new IOException("chunk " + key + ": broken"));
            }
            return super.get(key);
        }
    }
}
