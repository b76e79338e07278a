package org.lmcache4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChunkKeyTest {

    private static byte[] bytes(int length, int first) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (first + i);
        }
        return b;
    }

    @Test
    void hexRoundTrip() {
        ChunkKey key = ChunkKey.of(bytes(16, 0xf0));
        assertEquals("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", key.toString());
        assertEquals(key, ChunkKey.ofHex(key.toString()));
        assertArrayEquals(bytes(16, 0xf0), ChunkKey.ofHex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").toBytes());
    }

    @Test
    void upperCaseHexIsAcceptedAndPrintedLowerCase() {
        ChunkKey key = ChunkKey.ofHex("F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF");
        assertEquals("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", key.toString());
    }

    @ParameterizedTest
    @ValueSource(ints = {16, 17, 32, 63, 64})
    void validLengthsRoundTrip(int length) {
        ChunkKey key = ChunkKey.of(bytes(length, 7));
        assertEquals(length, key.length());
        assertEquals(2 * length, key.toString().length());
        assertEquals(key, ChunkKey.ofHex(key.toString()));
    }

    @Test
    void equalityIsByContent() {
        ChunkKey a = ChunkKey.of(bytes(32, 1));
        ChunkKey b = ChunkKey.of(bytes(32, 1));
        assertNotSame(a, b);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(0, a.compareTo(b));

        byte[] last = bytes(32, 1);
        last[31] ^= 1;
        assertNotEquals(a, ChunkKey.of(last));
        // a prefix is a different key
        assertNotEquals(ChunkKey.of(bytes(16, 1)), ChunkKey.of(bytes(17, 1)));
        assertNotEquals(a, (Object) a.toString());
    }

    @Test
    void orderIsUnsignedLexicographic() {
        byte[] low = new byte[16];
        byte[] high = new byte[16];
        high[0] = (byte) 0x80; // negative as a signed byte, largest unsigned
        assertTrue(ChunkKey.of(low).compareTo(ChunkKey.of(high)) < 0);
        assertTrue(ChunkKey.of(high).compareTo(ChunkKey.of(low)) > 0);
    }

    @Test
    void inputArrayIsCopied() {
        byte[] source = bytes(16, 0);
        ChunkKey key = ChunkKey.of(source);
        source[0] = 99;
        assertEquals((byte) 0, key.toBytes()[0]);
        assertEquals("000102030405060708090a0b0c0d0e0f", key.toString());
    }

    @Test
    void toBytesReturnsACopy() {
        ChunkKey key = ChunkKey.of(bytes(16, 0));
        byte[] out = key.toBytes();
        out[0] = 99;
        assertEquals((byte) 0, key.toBytes()[0]);
        assertNotSame(key.toBytes(), key.toBytes());
    }

    @Test
    void copyToWritesAtOffset() {
        ChunkKey key = ChunkKey.of(bytes(16, 1));
        byte[] dst = new byte[20];
        key.copyTo(dst, 3);
        assertEquals(0, dst[2]);
        assertEquals(1, dst[3]);
        assertEquals(16, dst[18]);
        assertEquals(0, dst[19]);
        assertThrows(IndexOutOfBoundsException.class, () -> key.copyTo(new byte[16], 1));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 15, 65, 128})
    void badLengthsRejected(int length) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChunkKey.of(new byte[length]));
        assertEquals("chunk key length: " + length + " (expected: 16 to 64 bytes)", e.getMessage());
    }

    @Test
    void nullBytesRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChunkKey.of(null));
        assertEquals("chunk key length: null (expected: 16 to 64 bytes)", e.getMessage());
    }

    @Test
    void badHexRejected() {
        String thirtyDigits = "00".repeat(15);
        IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class,
                () -> ChunkKey.ofHex(thirtyDigits));
        assertEquals("chunk key: '" + thirtyDigits + "' (expected: 32 to 128 hex digits)", shortKey.getMessage());

        String tooLong = "ab".repeat(65);
        assertThrows(IllegalArgumentException.class, () -> ChunkKey.ofHex(tooLong));

        String odd = "0".repeat(33);
        IllegalArgumentException oddLength = assertThrows(IllegalArgumentException.class, () -> ChunkKey.ofHex(odd));
        assertTrue(oddLength.getMessage().startsWith("chunk key: '" + odd + "'"), oddLength.getMessage());

        String notHex = "zz" + "00".repeat(15);
        IllegalArgumentException nonHex = assertThrows(IllegalArgumentException.class, () -> ChunkKey.ofHex(notHex));
        assertTrue(nonHex.getMessage().contains("'" + notHex + "'"), nonHex.getMessage());
    }

    @Test
    void hashCodeSpreadsDifferentKeys() {
        long distinct = IntStream.range(0, 256).mapToObj(i -> ChunkKey.of(bytes(16, i)).hashCode()).distinct().count();
        assertEquals(256, distinct);
    }
}
