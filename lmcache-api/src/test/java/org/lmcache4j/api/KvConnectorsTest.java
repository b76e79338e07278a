package org.lmcache4j.api;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KvConnectorsTest {

    @Test
    void unknownConnectorNameIsRejectedNamingIt() {
        LmCacheConfig config = LmCacheConfig.builder().connector("no-such-connector").build();
        KvLayout layout = KvLayout.standard(2, 1, 8, KvDtype.FP16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvConnectors.open(config, layout));
        // No provider is on this module's test class path, so the list of found names is empty.
        assertTrue(e.getMessage().startsWith("connector: 'no-such-connector' (expected: one of []"), e.getMessage());
        assertTrue(e.getMessage().contains("add lmcache-storage"), e.getMessage());
    }

    @Test
    void defaultConnectorNeedsTheStorageModule() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvConnectors.open(LmCacheConfig.defaults(), KvLayout.mla(2, 16, KvDtype.BF16)));
        assertTrue(e.getMessage().startsWith("connector: 'tiered'"), e.getMessage());
    }
}
