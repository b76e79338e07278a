package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.assertChunkBytes;
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
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.testing.RedisServer;

/**
 * A shard's slot moved between masters while the tier runs, the way {@code redis-cli --cluster reshard}
 * moves it: while it migrates (its keys already on the importing master), lookups follow the {@code ASK}
 * redirect; once moved, the {@code MOVED} one. Either way the chunk is found, and once moved read byte for byte.
 */
class RemoteSlotMigrationIT {

    @RegisterExtension
    final LocalRedisCluster cluster = LocalRedisCluster.threeMasters();

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void lookupsFollowASlotWhileItMigratesAndAfter() {
        try (RemoteTier t = new RemoteTier(RemoteUrl.parse(cluster.url() + "?partBytes=4k&timeoutMillis=1000&breakerOpenMillis=200"),
                "migrate", RemoteTierContractTest.FINGERPRINT, System::nanoTime)) {
            ChunkKey k = key(3);
            assertTrue(t.put(k, MemorySegment.ofArray(payload(3, 9_000))));
            List<ChunkKey> prompt = List.of(k);
            assertArrayEquals(new boolean[] {true}, t.containsAll(prompt), "before the move (the slot map is read)");

            String slot = Integer.toString(t.keys().slotOf(t.keys().shardOf(k)));
            RedisServer source = null;
            for (RedisServer n : cluster.servers().nodes()) {
                if (!((List<?>) n.call("CLUSTER", "GETKEYSINSLOT", slot, "1000")).isEmpty()) {
                    source = n;
                }
            }
            RedisServer from = source;
            RedisServer target = cluster.servers().nodes().stream().filter(n -> n != from).findFirst().orElseThrow();
            String sourceId = (String) source.call("CLUSTER", "MYID");
            String targetId = (String) target.call("CLUSTER", "MYID");
            target.call("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId);
            source.call("CLUSTER", "SETSLOT", slot, "MIGRATING", targetId);
            List<String> migrate = new ArrayList<>(List.of("MIGRATE", "127.0.0.1", Integer.toString(target.port()), "", "0", "5000",
                    "KEYS"));
            ((List<?>) source.call("CLUSTER", "GETKEYSINSLOT", slot, "1000")).forEach(key -> migrate.add((String) key));
            source.call(migrate.toArray(String[]::new));

            assertArrayEquals(new boolean[] {true}, t.containsAll(prompt), "while the slot migrates: asked again on the importing"
                    + " master (ASK)");
            // (A get now would fail: its script names keys of the shard that do not exist, say its pins, and the
            // importing master answers such a multi-key call with TRYAGAIN until the slot is moved.)

            for (RedisServer n : cluster.servers().nodes()) {
                n.call("CLUSTER", "SETSLOT", slot, "NODE", targetId);
            }
            assertArrayEquals(new boolean[] {true}, t.containsAll(prompt), "after the move: asked again on the new master (MOVED)");
            assertArrayEquals(new boolean[] {true}, t.containsAll(prompt), "and on it straight away once the slot map is read again");
            try (ChunkBuffer b = t.get(k).orElseThrow()) {
                assertChunkBytes(payload(3, 9_000), b, "after the move");
            }
        }
    }
}
