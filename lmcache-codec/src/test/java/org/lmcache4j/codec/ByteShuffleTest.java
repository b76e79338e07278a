package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ByteShuffleTest {

    @Test
    void shufflesTwoByteElementsIntoPlanes() {
        byte[] elements = {0x10, 0x11, 0x20, 0x21, 0x30, 0x31};
        byte[] planes = new byte[6];
        ByteShuffle.shuffle(MemorySegment.ofArray(elements), MemorySegment.ofArray(planes), 2);
        assertArrayEquals(new byte[] {0x10, 0x20, 0x30, 0x11, 0x21, 0x31}, planes);
    }

    @Test
    void shufflesFourByteElementsIntoPlanesThroughTheEightElementPath() {
        int n = 11; // 8 through the long path, 3 through the tail
        byte[] elements = new byte[4 * n];
        byte[] expected = new byte[4 * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 4; k++) {
                elements[4 * i + k] = (byte) (16 * k + i); // byte k of element i
                expected[k * n + i] = (byte) (16 * k + i);
            }
        }
        byte[] planes = new byte[4 * n];
        ByteShuffle.shuffle(MemorySegment.ofArray(elements), MemorySegment.ofArray(planes), 4);
        assertArrayEquals(expected, planes);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void shuffleMatchesTheBytewiseDefinitionAndUnshuffleUndoesIt(int e) {
        SplittableRandom random = new SplittableRandom(e);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 63, 1000, 1003, 65_537}) {
                byte[] elements = new byte[n * e];
                random.nextBytes(elements);
                byte[] expected = new byte[n * e];
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < e; k++) {
                        expected[k * n + i] = elements[e * i + k];
                    }
                }
                // native planes from heap elements, as the encoder does; native to heap back, as a decoder into a heap chunk
                MemorySegment planes = arena.allocate(Math.max(1, n * e)).asSlice(0, n * e);
                ByteShuffle.shuffle(MemorySegment.ofArray(elements), planes, e);
                assertArrayEquals(expected, planes.toArray(ValueLayout.JAVA_BYTE), "shuffle of " + n + " elements of " + e);
                byte[] back = new byte[n * e];
                ByteShuffle.unshuffle(planes, MemorySegment.ofArray(back), e);
                assertArrayEquals(elements, back, "unshuffle of " + n + " elements of " + e);
                MemorySegment nativeBack = arena.allocate(Math.max(1, n * e)).asSlice(0, n * e);
                ByteShuffle.unshuffle(MemorySegment.ofArray(expected), nativeBack, e);
                assertArrayEquals(elements, nativeBack.toArray(ValueLayout.JAVA_BYTE), "native unshuffle of " + n + " elements of " + e);
            }
        }
    }

    @Test
    void rejectsOtherElementSizesAndMismatchedBuffers() {
        MemorySegment six = MemorySegment.ofArray(new byte[6]);
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> ByteShuffle.shuffle(six, six, 3));
        assertTrue(size.getMessage().contains("elementBytes: 3"), size.getMessage());
        IllegalArgumentException partial = assertThrows(IllegalArgumentException.class,
                () -> ByteShuffle.shuffle(six, MemorySegment.ofArray(new byte[6]), 4));
        assertTrue(partial.getMessage().contains("src: 6 bytes"), partial.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ByteShuffle.unshuffle(six, MemorySegment.ofArray(new byte[8]), 2));
    }
}
