package org.lmcache4j.api.spi;

import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;

/** Makes connectors; found with {@link java.util.ServiceLoader} by {@link org.lmcache4j.api.KvConnectors}. */
public interface KvConnectorProvider {

    /** The name configs select this provider by ({@link LmCacheConfig#connector()}). */
    String name();

    /** Opens a connector for an engine whose KV has {@code layout}. */
    KvConnector open(LmCacheConfig config, KvLayout layout);
}
