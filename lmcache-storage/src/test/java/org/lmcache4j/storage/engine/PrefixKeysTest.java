package org.lmcache4j.storage.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkEvent;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvEventListener;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.storage.keys.PrefixKeys;
import org.lmcache4j.testing.SeededKv;

/** A router computes the same keys a connector publishes in its events. */
class PrefixKeysTest {

    @Test
    void theKeysEqualTheOnesInStoredEvents() throws Exception {
        LmCacheConfig config = Engines.config().build();
        int[] tokens = SeededKv.tokens(3, 3 * Engines.CHUNK + 7);
        List<ChunkKey> published = new ArrayList<>();
        try (Arena arena = Arena.ofConfined(); TieredCacheEngine engine = Engines.open(config);
             AutoCloseable sub = engine.subscribe(new KvEventListener() {
                 @Override
                 public void onChunkEvent(ChunkEvent e) {
                     published.add(e.key());
                 }
             })) {
            HostKvMemory kv = SeededKv.contiguous(arena, Engines.SMALL, tokens.length);
            int[] slots = SeededKv.identitySlots(tokens.length);
            SeededKv.fill(kv, tokens, slots);
            engine.store(tokens, kv, slots);
            assertEquals(3, published.size(), "three full chunks: " + sub);
        }
        assertEquals(published, PrefixKeys.of(config, Engines.SMALL).keys(tokens));
        assertEquals(4, PrefixKeys.of(config.toBuilder().saveUnfullChunk(true).build(), Engines.SMALL).keys(tokens).size());
    }
}
