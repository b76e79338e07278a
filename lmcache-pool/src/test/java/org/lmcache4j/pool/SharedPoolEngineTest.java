package org.lmcache4j.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;

/**
 * Two connectors of one JVM on one pool, as two engines of a node: what one stores, the other hits byte for byte,
 * and the pool holds it once.
 */
class SharedPoolEngineTest {

    @TempDir
    Path dir;

    private static TierStats pool(KvConnector c) {
        return c.stats().tiers().stream().filter(t -> t.name().equals(SharedPoolTier.NAME)).findFirst().orElseThrow();
    }

    @Test
    void aPromptOneEngineStoredIsAHitForTheOtherAndHeldOnce() {
        String url = PoolEngines.url(dir, 32, "");
        try (Arena arena = Arena.ofShared(); KvConnector a = PoolEngines.open(url); KvConnector b = PoolEngines.open(url)) {
            PoolEngines.Prompt p = PoolEngines.Prompt.of(arena, 7, 4, true);
            assertEquals(64, a.store(p.tokens(), p.kv(), p.slots()));
            assertEquals(64, b.lookup(p.tokens()));
            assertEquals(64, PoolEngineChild.check(b, arena, 7, 4), "every byte, from the other connector");
            assertEquals(0, b.store(p.tokens(), p.kv(), p.slots()), "held already: not stored again");
            assertEquals(4, pool(a).chunks());
            assertEquals(4, pool(b).chunks());
            assertEquals(4 * PoolEngines.SLOT, pool(b).usedBytes(), "one copy");
            assertEquals(32 * PoolEngines.SLOT, pool(b).capacityBytes());
            assertTrue(pool(a).healthy());
        }
    }

    @Test
    void aRetrievesHoldsEndWithoutAnotherRequestAndItsChunksCanBeEvicted() throws Exception {
        String url = PoolEngines.url(dir, 4, "");
        try (Arena arena = Arena.ofShared(); KvConnector a = PoolEngines.open(url); KvConnector b = PoolEngines.open(url);
             SharedPoolTier probe = PoolEngines.probe(url)) {
            PoolEngines.Prompt p = PoolEngines.Prompt.of(arena, 7, 4, true);
            assertEquals(64, a.store(p.tokens(), p.kv(), p.slots()));
            assertEquals(64, PoolEngineChild.check(b, arena, 7, 4), "every byte");
            // b's holds are released together after its retrieve, though b sends nothing more
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (probe.heldSlots() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(0, probe.heldSlots(), "slots still held after b's retrieve");
            assertEquals(List.of(), probe.fsck());
            PoolEngines.Prompt other = PoolEngines.Prompt.of(arena, 8, 4, true);
            assertEquals(64, a.store(other.tokens(), other.kv(), other.slots()), "every chunk b read may be evicted");
            assertEquals(64, PoolEngineChild.check(b, arena, 8, 4));
            assertEquals(0, b.lookup(p.tokens()));
        }
    }

    @Test
    void aDiskTierUnderThePoolIsWrittenBehindFromIt(@TempDir Path disk) throws Exception {
        String url = PoolEngines.url(dir, 8, "");
        String diskUrl = "file://" + disk.toUri().getRawPath();
        LmCacheConfig both = PoolEngines.config(url).toBuilder().tiers(List.of(url, diskUrl)).build();
        LmCacheConfig diskOnly = PoolEngines.config(url).toBuilder().tiers(List.of(diskUrl)).build();
        try (Arena arena = Arena.ofShared(); SharedPoolTier probe = PoolEngines.probe(url)) {
            PoolEngines.Prompt p = PoolEngines.Prompt.of(arena, 9, 4, true);
            try (KvConnector a = KvConnectors.open(both, PoolEngines.LAYOUT)) {
                assertEquals(64, a.store(p.tokens(), p.kv(), p.slots()));
                assertEquals(4, pool(a).chunks(), "in the pool when the store returns");
            } // close drains the write-behind to disk
            try (KvConnector d = KvConnectors.open(diskOnly, PoolEngines.LAYOUT)) {
                assertEquals(64, PoolEngineChild.check(d, arena, 9, 4), "every byte from the disk alone");
            }
            assertEquals(0, probe.heldSlots(), "the write-behind's holds ended");
            assertEquals(List.of(), probe.fsck());
        }
    }

    @Test
    void aFullPoolEvictsTheLeastRecentlyUsedAndNeverServesWrongBytes() {
        String url = PoolEngines.url(dir, 6, "");
        try (Arena arena = Arena.ofShared(); KvConnector a = PoolEngines.open(url); KvConnector b = PoolEngines.open(url)) {
            for (long seed = 1; seed <= 5; seed++) {
                PoolEngines.Prompt p = PoolEngines.Prompt.of(arena, seed, 2, true);
                (seed % 2 == 0 ? a : b).store(p.tokens(), p.kv(), p.slots());
            }
            assertEquals(6, pool(a).chunks(), "six slots");
            for (long seed = 1; seed <= 5; seed++) {
                int n = PoolEngineChild.check(seed % 2 == 0 ? b : a, arena, seed, 2);
                assertEquals(seed >= 3 ? 32 : 0, n, "prompt " + seed + ": the two oldest were evicted");
            }
        }
    }
}
