package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The threads a connector starts at open (copy lanes, the hasher's warm-up) are gone when its close returns. */
class ConnectorThreadsTest {

    @Test
    void closeLeavesNoCopyLaneOrHasherWarmUpThreadBehind() {
        long before = liveThreads("lmcache-copy-");
        TieredCacheEngine engine = Engines.open(Engines.config().localCpu(false).copyThreads(3).build());
        assertEquals(before + 2, liveThreads("lmcache-copy-"), "two helper lanes run from open on");
        engine.close(); // at once: the hasher's warm-up of a fresh JVM may still be running
        assertEquals(before, liveThreads("lmcache-copy-"));
        assertEquals(0, liveThreads("lmcache-hash-warmup"));
    }

    private static long liveThreads(String namePrefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(namePrefix))
                .count();
    }
}
