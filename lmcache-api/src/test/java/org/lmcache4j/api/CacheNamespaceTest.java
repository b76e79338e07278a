package org.lmcache4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CacheNamespaceTest {

    private static final KvLayout LAYOUT = KvLayout.standard(32, 8, 128, KvDtype.BF16);
    private static final CacheNamespace BASE = new CacheNamespace("llama", "fp", "salt", 0, 2);

    static Stream<Arguments> boundaryShifts() {
        return Stream.of(
                Arguments.of(new CacheNamespace("ab", "c", "", 0, 1), new CacheNamespace("a", "bc", "", 0, 1)),
                Arguments.of(new CacheNamespace("m", "fp", "ab", 0, 1), new CacheNamespace("m", "fpa", "b", 0, 1)),
                Arguments.of(new CacheNamespace("m", "fp", "x", 1, 12), new CacheNamespace("m", "fp", "x1", 1, 2)),
                Arguments.of(new CacheNamespace("m", "fp", "", 11, 12), new CacheNamespace("m", "fp", "1", 1, 12)));
    }

    @ParameterizedTest
    @MethodSource("boundaryShifts")
    void fieldBoundaryShiftsGiveDifferentBytes(CacheNamespace a, CacheNamespace b) {
        assertFalse(Arrays.equals(a.canonicalBytes(), b.canonicalBytes()), a + " vs " + b);
    }

    static Stream<Arguments> oneFieldChanged() {
        return Stream.of(
                Arguments.of(new CacheNamespace("llama2", "fp", "salt", 0, 2)),
                Arguments.of(new CacheNamespace("llama", "fq", "salt", 0, 2)),
                Arguments.of(new CacheNamespace("llama", "fp", "", 0, 2)),
                Arguments.of(new CacheNamespace("llama", "fp", "salt", 1, 2)),
                Arguments.of(new CacheNamespace("llama", "fp", "salt", 0, 4)));
    }

    @ParameterizedTest
    @MethodSource("oneFieldChanged")
    void anyFieldChangesTheBytes(CacheNamespace other) {
        assertFalse(Arrays.equals(BASE.canonicalBytes(), other.canonicalBytes()), other.toString());
    }

    @Test
    void canonicalBytesAreLengthPrefixedFields() {
        byte[] bytes = new CacheNamespace("m", "fp", "", 0, 1).canonicalBytes();
        String[] fields = {"lmcache4j-namespace/1", "m", "fp", "", "0", "1"};
        int expectedLength = 0;
        for (String f : fields) {
            expectedLength += 4 + f.length();
        }
        assertEquals(expectedLength, bytes.length);
        // first field: big-endian length 21, then the format text
        assertArrayEquals(new byte[] {0, 0, 0, 21}, Arrays.copyOfRange(bytes, 0, 4));
        assertEquals("lmcache4j-namespace/1", new String(bytes, 4, 21, StandardCharsets.UTF_8));
        assertArrayEquals(new byte[] {0, 0, 0, 1, 'm'}, Arrays.copyOfRange(bytes, 25, 30));
    }

    @Test
    void canonicalBytesAreStable() {
        assertArrayEquals(BASE.canonicalBytes(), new CacheNamespace("llama", "fp", "salt", 0, 2).canonicalBytes());
    }

    @Test
    void nonAsciiFieldsAreLengthPrefixedInBytesNotChars() {
        byte[] bytes = new CacheNamespace("é", "fp", "", 0, 1).canonicalBytes();
        assertArrayEquals(new byte[] {0, 0, 0, 2, (byte) 0xc3, (byte) 0xa9}, Arrays.copyOfRange(bytes, 25, 31));
    }

    @Test
    void nullSaltMeansNoSalt() {
        CacheNamespace withNull = new CacheNamespace("m", "fp", null, 0, 1);
        assertEquals("", withNull.tenantSalt());
        assertEquals(new CacheNamespace("m", "fp", "", 0, 1), withNull);
    }

    @Test
    void ofUsesTheLayoutFingerprintAndNoParallelism() {
        CacheNamespace ns = CacheNamespace.of("meta-llama/Llama-3.1-8B", LAYOUT);
        assertEquals(new CacheNamespace("meta-llama/Llama-3.1-8B", "d4f6e32487754f6c", "", 0, 1), ns);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(null, "fp", 0, 1, "modelId: 'null' (expected: a non-blank model name)"),
                Arguments.of(" ", "fp", 0, 1, "modelId: ' ' (expected: a non-blank model name)"),
                Arguments.of("m", null, 0, 1, "layoutFingerprint: 'null' (expected: KvLayout.fingerprint())"),
                Arguments.of("m", "", 0, 1, "layoutFingerprint: '' (expected: KvLayout.fingerprint())"),
                Arguments.of("m", "fp", 0, 0, "tpWorldSize: 0 (expected: > 0)"),
                Arguments.of("m", "fp", 0, -2, "tpWorldSize: -2 (expected: > 0)"),
                Arguments.of("m", "fp", -1, 2, "tpRank: -1 (expected: 0 to 1)"),
                Arguments.of("m", "fp", 2, 2, "tpRank: 2 (expected: 0 to 1)"));
    }

    @ParameterizedTest(name = "{4}")
    @MethodSource("invalid")
    void invalidValuesAreRejected(String modelId, String fingerprint, int rank, int world, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CacheNamespace(modelId, fingerprint, "", rank, world));
        assertEquals(message, e.getMessage());
    }
}
