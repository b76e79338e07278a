package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The threads a connector starts at open (copy lanes, the hasher's warm-up) are gone when its close returns. */
class ConnectorThreadsTest {

    @Test
    void closeLeavesNoCopyLaneOrHasherWarmUpThreadBehind() {
        Set<Thread> before = liveThreads("lmcache-copy-"); // another test's connector may still be closing
        TieredCacheEngine engine = Engines.open(Engines.config().localCpu(false).copyThreads(3).build());
        Set<Thread> lanes = new HashSet<>(liveThreads("lmcache-copy-"));
        lanes.removeAll(before);
        assertEquals(2, lanes.size(), "two helper lanes run from open on");
        engine.close(); // at once: the hasher's warm-up of a fresh JVM may still be running
        assertEquals(Set.of(), lanes.stream().filter(Thread::isAlive).collect(Collectors.toSet()), "lanes alive after close");
        assertEquals(Set.of(), liveThreads("lmcache-hash-warmup"));
    }

    private static Set<Thread> liveThreads(String namePrefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(namePrefix))
                .collect(Collectors.toSet());
    }
}
