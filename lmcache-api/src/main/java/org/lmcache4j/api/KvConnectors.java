package org.lmcache4j.api;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.lmcache4j.api.spi.KvConnectorProvider;

/** The entry point: opens a {@link KvConnector} from configuration through {@link ServiceLoader}. */
public final class KvConnectors {

    private KvConnectors() {
    }

    /**
     * Opens the connector named by {@link LmCacheConfig#connector()} for an engine of {@code layout}.
     *
     * @throws IllegalArgumentException when no provider of that name is on the class or module path,
     *                                  or the config does not fit the layout
     */
    public static KvConnector open(LmCacheConfig config, KvLayout layout) {
        List<String> found = new ArrayList<>();
        for (KvConnectorProvider provider : ServiceLoader.load(KvConnectorProvider.class, KvConnectors.class.getClassLoader())) {
            if (provider.name().equals(config.connector())) {
                return provider.open(config, layout);
            }
            found.add(provider.name());
        }
        throw new IllegalArgumentException("connector: '" + config.connector() + "' (expected: one of " + found
                + "; add lmcache-storage to the class or module path for 'tiered')");
    }
}
