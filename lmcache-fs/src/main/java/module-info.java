/**
 * The shared-filesystem tier: one directory on NFS, Lustre, CephFS, GPFS or a local file system that many
 * engines on many machines read and write at once, opened from {@code fs:///mnt/kv?capacity=500g} or
 * {@code shared+file:///mnt/kv?...} URLs by the {@link org.lmcache4j.api.spi.StorageTierProvider} it provides.
 * Put it on the class or module path next to {@code lmcache-storage} and name the directory in
 * {@code LMCACHE_TIERS}: no code changes. Exports nothing; its chunk files use the disk tier's checksummed
 * format from {@code org.lmcache4j.storage.tier}.
 */
module org.lmcache4j.fs {
    requires org.lmcache4j.api;
    requires org.lmcache4j.storage;
    requires org.slf4j;

    provides org.lmcache4j.api.spi.StorageTierProvider with org.lmcache4j.fs.SharedFsTierProvider;
}
