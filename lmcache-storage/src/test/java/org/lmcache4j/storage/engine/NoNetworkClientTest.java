package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.spi.StorageTiers;

/**
 * An engine that depends on lmcache-api and lmcache-storage alone gets no network client: this module's
 * test class path is exactly that (plus test libraries that bring none), so no Redis client, pool or
 * compressor class loads here, no provider offers a Redis scheme, and a {@code redis://} tier fails at
 * open saying which module to add. (The pom's enforcer rule checks the same on the resolved dependency
 * tree at build time; lmcache-redis's RedisByConfigTest shows that adding that module is all it takes.)
 */
class NoNetworkClientTest {

    @Test
    void noRedisClientPoolOrCompressorIsOnTheClassPath() {
        for (String name : List.of("redis.clients.jedis.Jedis", "org.apache.commons.pool2.ObjectPool",
                "net.jpountz.lz4.LZ4Factory")) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName(name), name);
        }
    }

    @Test
    void noProviderOffersARedisScheme() {
        assertFalse(StorageTiers.providers().containsKey("redis"));
        assertFalse(StorageTiers.providers().containsKey("rediss-cluster"));
    }

    @Test
    void aRedisTierFailsAtOpenNamingTheModuleToAdd() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvConnectors.open(Engines.config().tiers("redis://cache:6379").build(), Engines.SMALL));
        assertTrue(e.getMessage().startsWith("tier URL 'redis://cache:6379': no tier provider for scheme 'redis' on the class"
                + " or module path (expected: one of [cpu, file]; add the lmcache-redis module (Maven artifact"
                + " org.lmcache4j:lmcache-redis) to the class or module path for 'redis')"), e.getMessage());
    }
}
