package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lmcache4j.api.ChunkKey;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Index shards land in their own equal ranges of the hash slots (so a cluster's masters, which
 * {@code redis-cli --cluster create} gives equal contiguous ranges, share them evenly), a chunk's parts
 * share its shard's slot, and one shard keeps the key names of an unsharded namespace.
 */
class RemoteKeysTest {

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 16, 64, 1024})
    void eachShardsSlotLiesInTheMiddleOfItsOwnRange(int shards) {
        RemoteKeys keys = new RemoteKeys("lmc4j", "ns-1", shards);
        double width = 16384.0 / shards;
        for (int s = 0; s < shards; s++) {
            int slot = keys.slotOf(s);
            assertTrue(slot >= width * s + width / 4 - 1 && slot <= width * s + 3 * width / 4 + 1, "shard " + s + ": slot " + slot);
            for (byte[] k : keys.indexKeys(s)) {
                assertEquals(slot, JedisClusterCRC16.getSlot(k), new String(k, StandardCharsets.US_ASCII));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 6, 12})
    void sixteenShardsSpreadOverEqualMastersAsEvenlyAsTheyDivide(int masters) {
        RemoteKeys keys = new RemoteKeys("lmc4j", "ns-1", 16);
        int[] perMaster = new int[masters];
        for (int s = 0; s < 16; s++) {
            perMaster[(int) ((long) keys.slotOf(s) * masters / 16384)]++;
        }
        for (int n : perMaster) {
            assertTrue(n >= 16 / masters && n <= (16 + masters - 1) / masters, java.util.Arrays.toString(perMaster));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 16})
    void aChunksPartsShareItsShardsSlot(int shards) {
        RemoteKeys keys = new RemoteKeys("lmc4j", "ns-1", shards);
        int[] perShard = new int[shards];
        for (int i = 0; i < 1600; i++) {
            ChunkKey k = key(i);
            int shard = keys.shardOf(k);
            perShard[shard]++;
            for (byte[] part : keys.parts(k, 42, 3)) {
                assertEquals(keys.slotOf(shard), JedisClusterCRC16.getSlot(part));
            }
        }
        for (int n : perShard) {
            assertTrue(n > 1600 / shards / 2, "chunks fill the shards evenly: " + java.util.Arrays.toString(perShard));
        }
    }

    @org.junit.jupiter.api.Test
    void oneShardKeepsTheUnshardedNamesWithTheLayoutVersionAndTheHomeIsTheSameForEveryCount() {
        RemoteKeys one = new RemoteKeys("lmc4j", "ns-1", 1);
        assertArrayEquals("lmc4j:{ns-1.k2}:lru".getBytes(StandardCharsets.US_ASCII), one.indexKeys(0).getFirst());
        assertArrayEquals(one.homeKeys().get(6), new RemoteKeys("lmc4j", "ns-1", 16).homeKeys().get(6));
        assertArrayEquals("lmc4j:{ns-1.k2}:meta".getBytes(StandardCharsets.US_ASCII), one.homeKeys().get(6));
        String part = new String(one.parts(ChunkKey.ofHex("ab".repeat(32)), 1, 1)[0], StandardCharsets.US_ASCII);
        assertTrue(part.startsWith("lmc4j:{ns-1.k2}:"), "parts carry the layout's version too, so an older layout's never match: " + part);
    }
}
