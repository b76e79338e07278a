package org.lmcache4j.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.testing.StorageTierContract;

/**
 * The pool tier opened through the provider lookup by its URL, as a connector opens it, with a coordinator embedded
 * in this JVM (each test's tier its own root), passes the StorageTier contract. A chunk costs a whole slot.
 */
class SharedPoolTierContractTest extends StorageTierContract {

    @TempDir
    Path dir;

    private int tiers;

    @Override
    protected StorageTier newTier(long capacityBytes) {
        return PoolTiers.open(PoolTiers.url(dir.resolve("root" + tiers++), "size=" + capacityBytes), chunkBytes());
    }

    @Override
    protected long chargedBytes(long payloadBytes) {
        return PoolFile.slotBytesFor(chunkBytes());
    }

    @Test
    void theProviderOfThePoolSchemeOpensOnePoolFilePerIdentityInItsDirectory() throws Exception {
        StorageTier t = tier();
        t.put(key(1), nativeCopy(payload(1, 100)));
        assertEquals(SharedPoolTier.NAME, t.name());
        Path pool = dir.resolve("root0").resolve(PoolTiers.IDENTITY.directoryName() + ".pool");
        assertTrue(Files.isRegularFile(pool), "pool file");
        assertEquals(PoolFile.fileBytes(PoolFile.slotBytesFor(chunkBytes()), BUDGET_CHUNKS), Files.size(pool));
        assertTrue(Files.exists(dir.resolve("root0").resolve("coordinator.sock")), "the embedded coordinator's socket");
    }

    @Test
    void aTierIsReadyOnceThePoolsPagesAreMappedIntoThisProcessAndAtOnceWithoutACoordinator() throws Exception {
        try (SharedPoolTier t = PoolTiers.open(PoolTiers.url(dir.resolve("ready"), "size=" + 64L * chunkBytes()), chunkBytes())) {
            assertTrue(t.awaitReady(java.time.Duration.ofSeconds(30)), "mapped within 30 s");
            assertTrue(t.mapped(), "every page of the pool read once through this process's mapping");
        }
        try (SharedPoolTier t = PoolTiers.open(PoolTiers.url(dir.resolve("nobody"), "size=" + 64L * chunkBytes() + "&embed=false"),
                chunkBytes())) {
            assertTrue(t.awaitReady(java.time.Duration.ZERO), "no coordinator answers: nothing to map");
        }
    }
}
