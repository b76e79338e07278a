package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.testing.RedisServer;

/**
 * A blackholed master of three: its process is stopped (SIGSTOP), so the kernel still completes
 * connections to it, but nothing is ever answered, and every wait on it lasts the whole timeout. Once a
 * lookup found it dead, later lookups skip it (its chunks are misses) instead of each waiting for it,
 * until a probe finds it back. Counted by the blackholed node itself: the connections made to it while it
 * was stopped, which it accepts once resumed.
 */
class RemoteBlackholedNodeIT {

    private static final int TIMEOUT_MILLIS = 1000;
    private static final int LOOKUPS = 20;

    @RegisterExtension
    final LocalRedisCluster cluster = LocalRedisCluster.threeMasters();

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void lookupsSkipABlackholedMasterInsteadOfWaitingForItEachTime() {
        // The probe interval (breakerOpenMillis) outlasts the lookups: no probe is due while they run.
        try (RemoteTier t = new RemoteTier(RemoteUrl.parse(cluster.url() + "?partBytes=4k&timeoutMillis=" + TIMEOUT_MILLIS
                + "&breakerOpenMillis=600000"), "blackhole", RemoteTierContractTest.FINGERPRINT, System::nanoTime)) {
            List<ChunkKey> keys = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                keys.add(key(i));
                assertTrue(t.put(key(i), MemorySegment.ofArray(payload(i, 2_000))));
            }
            assertEquals(32, hits(t.containsAll(keys)));
            RedisServer victim = cluster.servers().nodes().get(1);
            long victims = 0;
            for (Object k : (List<?>) victim.call("KEYS", "lmc4j:{" + RemoteKeys.versioned("blackhole") + ":*}:lru")) {
                victims += (Long) victim.call("ZCARD", (String) k);
            }
            assertTrue(victims > 0 && victims < 32, "the victim holds some chunks: " + victims);
            long before = connectionsReceived(victim);
            long started = System.nanoTime();
            victim.freeze();
            try {
                for (int i = 0; i < LOOKUPS; i++) {
                    assertEquals(32 - victims, hits(t.containsAll(keys)), "lookup " + i + ": the other masters' chunks");
                }
            } finally {
                victim.thaw();
            }
            long millis = (System.nanoTime() - started) / 1_000_000;
            long attempts = connectionsReceived(victim) - before - 1; // the reading's own connection
            assertTrue(attempts <= 2, "connections made to the blackholed master by " + LOOKUPS + " lookups: " + attempts
                    + " (expected: at most 2; it is skipped once found dead)");
            assertTrue(millis < 5L * TIMEOUT_MILLIS, LOOKUPS + " lookups took " + millis + " ms (expected: far less than "
                    + LOOKUPS + " x the " + TIMEOUT_MILLIS + " ms timeout)");
            assertEquals(RemoteCircuitBreaker.State.CLOSED, t.link().breaker().state(), "one blackholed master of three is no outage");
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aBlackholedMasterThatComesBackIsFoundByAProbe() throws Exception {
        try (RemoteTier t = new RemoteTier(RemoteUrl.parse(cluster.url() + "?partBytes=4k&timeoutMillis=500&breakerOpenMillis=300"),
                "comeback", RemoteTierContractTest.FINGERPRINT, System::nanoTime)) {
            List<ChunkKey> keys = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                keys.add(key(i));
                assertTrue(t.put(key(i), MemorySegment.ofArray(payload(i, 2_000))));
            }
            RedisServer victim = cluster.servers().nodes().get(2);
            victim.freeze();
            int duringFreeze;
            try {
                t.containsAll(keys); // finds it dead
                duringFreeze = hits(t.containsAll(keys));
            } finally {
                victim.thaw();
            }
            assertTrue(duringFreeze < 32, "its chunks are misses while it is skipped: " + duringFreeze + " hits");
            long deadline = System.currentTimeMillis() + 20_000;
            int found = 0;
            while (found < 32 && System.currentTimeMillis() < deadline) {
                found = hits(t.containsAll(keys));
                Thread.sleep(50);
            }
            assertEquals(32, found, "every chunk once a probe found the master back");
        }
    }

    private static long connectionsReceived(RedisServer node) {
        return Long.parseLong(node.info("stats").get("total_connections_received"));
    }

    private static int hits(boolean[] found) {
        int n = 0;
        for (boolean f : found) {
            n += f ? 1 : 0;
        }
        return n;
    }
}
