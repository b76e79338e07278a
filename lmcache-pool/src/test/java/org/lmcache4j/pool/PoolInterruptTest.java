package org.lmcache4j.pool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;

/**
 * A caller whose interrupt flag is set (a cancelled request's thread, say) is served as any other and keeps its
 * flag; the engine's connection to the coordinator stays, and with it the holds its other threads have.
 */
class PoolInterruptTest {

    @TempDir
    Path dir;

    @Test
    void anInterruptedCallerIsServedKeepsItsFlagAndLeavesOtherHoldsIntact() {
        String url = PoolEngines.url(dir, 8, "embed=true");
        ChunkKey key = ChunkKey.ofHex("cd".repeat(32));
        byte[] bytes = PoolEngines.chunkPayload(13);
        try (SharedPoolTier tier = PoolEngines.probe(url)) {
            assertTrue(tier.put(key, MemorySegment.ofArray(bytes)));
            try (ChunkBuffer held = tier.get(key).orElseThrow()) { // another thread's hold, in effect
                Thread.currentThread().interrupt();
                boolean found;
                try {
                    // regression: the interruptible channel closed under the call, a miss, and the connection with it
                    found = tier.contains(key);
                } finally {
                    assertTrue(Thread.interrupted(), "the caller keeps its interrupt flag");
                }
                assertTrue(found, "an interrupted caller is served");
                assertTrue(held.intact(), "the hold taken before is still good");
                assertArrayEquals(bytes, held.segment().toArray(ValueLayout.JAVA_BYTE));
            }
        }
    }
}
