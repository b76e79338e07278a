/**
 * The remote tier on Redis or Valkey: standalone, TLS and cluster servers, opened from {@code redis://},
 * {@code rediss://}, {@code valkey://}, {@code valkeys://} URLs and their {@code -cluster} forms by the
 * {@link org.lmcache4j.api.spi.StorageTierProvider} it provides. Put it on the class or module path next to
 * {@code lmcache-storage} and name the store in {@code LMCACHE_TIERS} or {@code LMCACHE_REMOTE_URL}: no code
 * changes. Exports nothing; its chunks use the disk tier's checksummed header from
 * {@code org.lmcache4j.storage.tier}.
 */
module org.lmcache4j.redis {
    requires org.lmcache4j.api;
    requires org.lmcache4j.storage;
    requires org.slf4j;
    requires redis.clients.jedis;
    requires org.apache.commons.pool2;
    requires org.lz4.java;

    provides org.lmcache4j.api.spi.StorageTierProvider with org.lmcache4j.redis.RedisTierProvider;
}
