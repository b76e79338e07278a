package org.lmcache4j.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.opentest4j.AssertionFailedError;

/** The seeded KV depends on the token prefix only, whatever memory and slots hold it. */
class SeededKvTest {

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void equalPrefixesGiveEqualKvInAnyMemory(boolean mla) {
        KvLayout layout = mla ? KvLayout.mla(3, 7, KvDtype.FP8_E4M3) : KvLayout.standard(3, 2, 5, KvDtype.BF16);
        try (Arena arena = Arena.ofConfined()) {
            int n = 40;
            int[] tokens = SeededKv.tokens(7, n);
            HostKvMemory contiguous = SeededKv.contiguous(arena, layout, n);
            HostKvMemory paged = SeededKv.paged(arena, layout, 8, 16);
            int[] identity = SeededKv.identitySlots(n);
            int[] shuffled = SeededKv.shuffledSlots(3, n, paged.numSlots());
            assertEquals(n, Arrays.stream(shuffled).distinct().count(), "distinct slots");
            assertTrue(SeededKv.isZero(paged, shuffled, 0, n), "fresh memory is zero");
            SeededKv.fill(contiguous, tokens, identity);
            SeededKv.fill(paged, tokens, shuffled);
            assertFalse(SeededKv.isZero(paged, shuffled, 0, 1), "filled");
            SeededKv.assertSameKv(contiguous, identity, paged, shuffled, 0, n);
            assertArrayEquals(SeededKv.rowBytes(contiguous, 2, 0, 5), SeededKv.rowBytes(paged, 2, 0, shuffled[5]));

            int[] otherFirst = tokens.clone();
            otherFirst[0] = (otherFirst[0] + 1) % SeededKv.VOCAB_SIZE;
            HostKvMemory other = SeededKv.contiguous(arena, layout, n);
            SeededKv.fill(other, otherFirst, identity);
            AssertionFailedError e = assertThrows(AssertionFailedError.class,
                    () -> SeededKv.assertSameKv(contiguous, identity, other, identity, n - 1, n));
            assertTrue(e.getMessage().startsWith("KV differs at token " + (n - 1)), e.getMessage());
            assertNotEquals(Arrays.toString(SeededKv.rowBytes(contiguous, 0, 0, 0)),
                    Arrays.toString(SeededKv.rowBytes(contiguous, 0, 0, 1)), "rows of different tokens differ");
        }
    }

    @Test
    void negativeSlotsAreSkipped() {
        KvLayout layout = KvLayout.standard(1, 1, 4, KvDtype.FP32);
        try (Arena arena = Arena.ofConfined()) {
            HostKvMemory kv = SeededKv.contiguous(arena, layout, 4);
            SeededKv.fill(kv, SeededKv.tokens(1, 4), new int[] {-1, 1, -1, 3});
            assertTrue(SeededKv.isZero(kv, new int[] {0, 2}, 0, 2), "skipped slots stay zero");
            assertFalse(SeededKv.isZero(kv, new int[] {1, 3}, 0, 2), "mapped slots are written");
        }
    }
}
