/**
 * The cache engine: implements {@link org.lmcache4j.api.KvConnector} over tiers of chunk buffers,
 * with chained chunk hashing, a pinned off-heap page allocator, the CPU and disk tiers ({@code cpu://},
 * {@code file://}) and the host copy engine. Engines reach it through {@link org.lmcache4j.api.KvConnectors#open};
 * slower tiers of other modules (lmcache-redis) plug in through {@link org.lmcache4j.api.spi.StorageTierProvider}
 * and build on the tier toolkit, {@link org.lmcache4j.storage.tier}. No network client is needed here.
 *
 * <p>One package per concern: {@code engine} (the connector, the tier stack, write-behind), {@code hash}
 * (chained chunk keys), {@code cpu} and {@code disk} (one tier each), {@code copy} (engine memory to chunk
 * buffers), and the exported ones. Exported: {@link org.lmcache4j.storage.keys.PrefixKeys} (a router's key
 * computation), the tier toolkit, and the operators' admin endpoint
 * ({@link org.lmcache4j.storage.admin.AdminServer}) and Micrometer binding
 * ({@link org.lmcache4j.storage.metrics.LmCacheMetrics}, needs Micrometer on the path). The providers are
 * found through {@code provides}, so their packages stay unexported ({@code ModulePathIT} in lmcache-redis
 * runs a program of its own module against these jars to check it).
 */
module org.lmcache4j.storage {
    requires transitive org.lmcache4j.api;
    requires org.lmcache4j.nativeio;
    requires org.slf4j;
    requires jdk.httpserver;
    requires jdk.unsupported; // com.sun.nio.file.ExtendedOpenOption.DIRECT for O_DIRECT reads
    requires zero.allocation.hashing;
    requires com.github.benmanes.caffeine;
    requires static micrometer.core;

    exports org.lmcache4j.storage.keys;
    exports org.lmcache4j.storage.tier;
    exports org.lmcache4j.storage.admin;
    exports org.lmcache4j.storage.metrics;

    uses org.lmcache4j.api.spi.DeviceCopyEngine;

    provides org.lmcache4j.api.spi.KvConnectorProvider with org.lmcache4j.storage.engine.TieredConnectorProvider;
    provides org.lmcache4j.api.spi.StorageTierProvider with org.lmcache4j.storage.disk.DiskTierProvider,
            org.lmcache4j.storage.cpu.CpuTierProvider;
}
