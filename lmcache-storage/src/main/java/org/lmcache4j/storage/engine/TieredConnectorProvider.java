package org.lmcache4j.storage.engine;

import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.spi.KvConnectorProvider;

/** Provides the {@code tiered} connector: the cache engine over the configured tiers. */
public final class TieredConnectorProvider implements KvConnectorProvider {

    /** The name configs select this provider by. */
    public static final String NAME = "tiered";

    /** For {@link java.util.ServiceLoader}. */
    public TieredConnectorProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public KvConnector open(LmCacheConfig config, KvLayout layout) {
        return new TieredCacheEngine(config, layout);
    }
}
