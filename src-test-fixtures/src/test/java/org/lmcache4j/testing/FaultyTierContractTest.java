package org.lmcache4j.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;

/**
 * A {@link FaultyTier} with every switch off passes the contract (it is a faithful pass-through), and
 * each switch fails exactly the calls it names.
 */
class FaultyTierContractTest extends StorageTierContract {

    @Override
    protected StorageTier newTier(long capacityBytes) {
        return new FaultyTier(new HeapMapTier(capacityBytes));
    }

    @Test
    void switchesFailOnlyTheirCalls() {
        FaultyTier t = (FaultyTier) tier();
        byte[] content = payload(1, chunkBytes());
        putOrFail(t, key(1), content);

        t.failGets(true);
        assertThrows(UncheckedIOException.class, () -> t.get(key(1)));
        assertTrue(t.contains(key(1)), "contains while gets fail");
        t.failGets(false).failContains(true).failPuts(true);
        assertThrows(UncheckedIOException.class, () -> t.contains(key(1)));
        assertThrows(UncheckedIOException.class, () -> t.put(key(2), nativeCopy(content)));
        t.failContains(false).failPuts(false);
        assertFalse(t.contains(key(2)), "a failed put stores nothing");

        t.corruptReads(true);
        try (ChunkBuffer corrupted = t.get(key(1)).orElseThrow()) {
            assertEquals(content.length, corrupted.sizeBytes(), "size of a corrupted read");
            byte[] read = corrupted.segment().toArray(ValueLayout.JAVA_BYTE);
            int middle = content.length / 2;
            assertEquals((byte) ~content[middle], read[middle], "the middle byte is inverted");
            read[middle] = content[middle];
            assertArrayEquals(content, read, "every other byte is intact");
        }
        t.corruptReads(false);
        assertStored(t, key(1), content);

        assertEquals(3, t.getCalls(), "get calls");
        assertEquals(2, t.putCalls(), "put calls");
        assertEquals(3, t.containsCalls(), "contains calls");
        assertEquals(3, t.injectedFailures(), "injected failures");
        assertEquals(1, t.corruptedReads(), "corrupted reads");
    }
}
