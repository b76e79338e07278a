package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.storage.cpu.CpuTier;
import org.lmcache4j.testing.FaultyTier;

/**
 * Regression: a slower tier's read that failed (or missed) into a cpu page was tried again with
 * {@code get}, so a slow remote server cost two timeouts and two breaker failures per chunk. A failed
 * or missed read is now one attempt; only a read that could not start (no free cpu page) falls back.
 */
class SlowerTierReadOnceTest {

    private static final ChunkKey KEY = key(1);

    private CpuTier backing;
    private FaultyTier slower;
    private TierStack stack;

    @BeforeEach
    void setUp() {
        backing = new CpuTier(8 * CHUNK_BYTES, CHUNK_BYTES);
        assertTrue(backing.put(KEY, MemorySegment.ofArray(payload(1, (int) CHUNK_BYTES))));
        slower = new FaultyTier(backing);
        stack = new TierStack(8 * CHUNK_BYTES, CHUNK_BYTES, System::nanoTime, UnaryOperator.identity(), List.of(slower),
                new KvEvents());
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    @Test
    void aFailingReadIsTriedOnce() {
        slower.failGets(true);
        assertTrue(stack.get(KEY, t -> true).isEmpty(), "a failing tier is a miss");
        assertEquals(1, slower.getCalls(), "read attempts");
        assertFalse(stack.promote(KEY, java.util.Set.of()));
        assertEquals(2, slower.getCalls(), "read attempts after a promotion too");
    }

    @Test
    void aReadThatMissesIsTriedOnce() {
        VanishingTier vanishing = new VanishingTier();
        try (TierStack racing = new TierStack(8 * CHUNK_BYTES, CHUNK_BYTES, System::nanoTime, UnaryOperator.identity(),
                List.of(vanishing), new KvEvents())) {
            assertTrue(racing.get(KEY, t -> true).isEmpty());
            assertEquals(1, vanishing.reads.get(), "read attempts");
        }
    }

    @Test
    void aHealthyReadIsPromotedWithOneRead() {
        Optional<TierStack.TierBuffer> got = stack.get(KEY, t -> true);
        assertTrue(got.isPresent());
        try (ChunkBuffer b = got.get().buffer()) {
            assertEquals(CHUNK_BYTES, b.sizeBytes());
        }
        assertEquals(1, slower.getCalls(), "read attempts");
        assertTrue(stack.cpu().orElseThrow().contains(KEY), "promoted");
    }

    /** A tier whose chunks are gone by the time they are read: contains says yes, every read misses. */
    private static final class VanishingTier implements StorageTier {
        final AtomicInteger reads = new AtomicInteger();

        @Override
        public String name() {
            return "vanishing";
        }

        @Override
        public boolean contains(ChunkKey key) {
            return true;
        }

        @Override
        public Optional<ChunkBuffer> get(ChunkKey key) {
            reads.incrementAndGet();
            return Optional.empty();
        }

        @Override
        public boolean put(ChunkKey key, MemorySegment payload) {
            return false;
        }

        @Override
        public boolean remove(ChunkKey key) {
            return false;
        }

        @Override
        public boolean pin(ChunkKey key, Duration timeout) {
            return false;
        }

        @Override
        public void unpin(ChunkKey key) {
        }

        @Override
        public void clear() {
        }

        @Override
        public TierStats stats() {
            return new TierStats(name(), 0, 0, 0, 0, true);
        }

        @Override
        public void close() {
        }
    }
}
