package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.storage.engine.Engines.CHUNK_BYTES;
import static org.lmcache4j.storage.engine.Engines.SMALL;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.lmcache4j.storage.cpu.CpuTier;

/** {@code awaitReady}: an engine's way to let the open-time preparation finish before it takes traffic. */
class ConnectorReadyTest {

    @Test
    void returnsOnceTheCpuTiersFirstPagesAreResident() {
        try (TieredCacheEngine engine = Engines.open(Engines.config().maxLocalCpuBytes(64 * CHUNK_BYTES).build())) {
            assertTrue(engine.awaitReady(Duration.ofSeconds(30)));
            CpuTier cpu = engine.tierStack().cpu().orElseThrow();
            assertTrue(cpu.mappedBytes() >= 64 * CHUNK_BYTES,
                    "the whole budget (under the ready-ahead default) is mapped when the wait returns: " + cpu.mappedBytes());
        }
    }

    @Test
    void aConnectorWithoutCpuTierIsReadyOnceItsHasherIsWarmAndANegativeTimeoutIsRejected() {
        try (TieredCacheEngine engine = Engines.open(Engines.config().localCpu(false).build())) {
            assertTrue(engine.awaitReady(Duration.ofSeconds(30)), "the chunk hasher's warm-up ends");
            assertTrue(engine.awaitReady(Duration.ZERO), "and stays ended");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> engine.awaitReady(Duration.ofMillis(-1)));
            assertTrue(e.getMessage().contains("PT-0.001S") && e.getMessage().contains(">= 0"), e.getMessage());
        }
    }

    @Test
    void waitsForEverySlowerTiersPreparationToo() {
        PreparingTier tier = new PreparingTier();
        try (TieredCacheEngine engine = new TieredCacheEngine(Engines.config().build(), SMALL, System::nanoTime,
                UnaryOperator.identity(), List.of(tier))) {
            assertFalse(engine.awaitReady(Duration.ofMillis(50)), "the slower tier is still preparing");
            tier.prepared.countDown();
            assertTrue(engine.awaitReady(Duration.ofSeconds(30)));
        } finally {
            tier.release();
        }
    }

    /** A slower tier whose open-time preparation ends when the test says so. */
    private static final class PreparingTier extends SharedTestTier {
        final CountDownLatch prepared = new CountDownLatch(1);

        PreparingTier() {
            super(8 * CHUNK_BYTES, CHUNK_BYTES);
        }

        @Override
        public boolean awaitReady(Duration timeout) {
            try {
                return prepared.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        @Override
        public String name() {
            return "preparing";
        }
    }
}
