/**
 * The node-shared pool: engine JVMs on one machine share one copy of each chunk in a file in shared memory
 * ({@code pool:///dev/shm/lmcache4j?size=8g} in {@code LMCACHE_TIERS}); one coordinator per node (embedded in the
 * first engine, or {@code bin/lmcache pool}) owns the index and the slots. Exports the coordinator for services
 * that run it; provides a {@link org.lmcache4j.api.spi.StorageTierProvider}.
 */
module org.lmcache4j.pool {
    requires transitive org.lmcache4j.api;
    requires org.lmcache4j.storage;
    requires org.slf4j;

    exports org.lmcache4j.pool;

    provides org.lmcache4j.api.spi.StorageTierProvider with org.lmcache4j.pool.SharedPoolTierProvider;
}
