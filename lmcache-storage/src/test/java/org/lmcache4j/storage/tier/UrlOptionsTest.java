package org.lmcache4j.storage.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Tier URL options, read one way for every tier: bytes with suffixes, milliseconds and bounded numbers, and
 * errors that name the URL, the option, its value and what was expected, never a value without its name.
 */
class UrlOptionsTest {

    private static final String SUBJECT = "tier URL 'x://'";
    private static final Set<String> KNOWN = new LinkedHashSet<>(List.of("capacity", "partBytes", "sweepMillis", "poolSize"));

    private static UrlOptions parse(String query) {
        return UrlOptions.parse(SUBJECT, query, KNOWN);
    }

    @Test
    void valuesAreDecodedInOrderAndAPlusStaysAPlus() {
        UrlOptions o = parse("poolSize=4&&capacity=1%20g&partBytes=a+b&");
        assertEquals(List.of("poolSize", "capacity", "partBytes"), List.copyOf(o.values().keySet()), "empty pairs are skipped");
        assertEquals(Map.of("poolSize", "4", "capacity", "1 g", "partBytes", "a+b"), o.values());
        assertEquals(Optional.of("4"), o.value("poolSize"));
        assertEquals(Optional.empty(), o.value("sweepMillis"));
        assertEquals(Map.of(), parse("").values());
    }

    @ParameterizedTest
    @CsvSource({"1, 1", "1k, 1024", "2M, 2097152", "3g, 3221225472", "1t, 1099511627776", "' 5k ', 5120"})
    void bytesTakeBinarySuffixes(String written, long bytes) {
        assertEquals(bytes, parse("capacity=" + written).bytes("capacity", -1, 1, Long.MAX_VALUE));
    }

    @Test
    void absentOptionsTakeTheirDefaults() {
        UrlOptions none = parse("");
        assertEquals(-1, none.bytes("capacity", -1, 1, Long.MAX_VALUE));
        assertEquals(30_000, none.millis("sweepMillis", 30_000, 0));
        assertEquals(16, none.wholeNumber("poolSize", 16, 1, 1024));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "capacity=lots        | capacity 'lots' (expected: bytes, optionally with a k, m, g or t suffix)",
        "capacity=0           | capacity 0 (expected: at least 1 bytes)",
        "capacity=9000000000t | capacity '9000000000t' (expected: bytes, optionally with a k, m, g or t suffix)",
        "partBytes=1k         | partBytes 1k (expected: 4096 to 8192 bytes)",
        "partBytes=x          | partBytes 'x' (expected: bytes, optionally with a k, m, g or t suffix, from 4096 to 8192)",
        "sweepMillis=-1       | sweepMillis -1 (expected: milliseconds, at least 0)",
        "sweepMillis=soon     | sweepMillis 'soon' (expected: milliseconds, at least 0)",
        "poolSize=0           | poolSize 0 (expected: 1 to 1024)",
        "poolSize=many        | poolSize 'many' (expected: a whole number from 1 to 1024)",
    })
    void badValuesNameTheOptionTheValueAndTheExpectation(String query, String message) {
        UrlOptions o = parse(query);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            o.bytes("capacity", -1, 1, Long.MAX_VALUE);
            o.bytes("partBytes", 4096, 4096, 8192);
            o.millis("sweepMillis", 0, 0);
            o.wholeNumber("poolSize", 16, 1, 1024);
        });
        assertEquals(SUBJECT + ": " + message, e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ttl=5                | option 'ttl' (expected: capacity, partBytes, sweepMillis or poolSize)",
        "Xq7Zk9Wv             | an option without '=' (expected: name=value)",
        "=Xq7Zk9Wv            | an option without a name (expected: name=value)",
        "capacity=Xq7Z%k9Wv   | bad percent-encoding in the value of option 'capacity' (expected: %XX with two hexadecimal digits, such as %40 for '@')",
        "cap%zz=Xq7Zk9Wv      | bad percent-encoding in an option name (expected: %XX with two hexadecimal digits, such as %40 for '@')",
    })
    void malformedQueriesAreRefusedWithoutShowingAValue(String query, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(query));
        assertEquals(SUBJECT + ": " + message, e.getMessage());
    }

    @Test
    void unknownNamesAreListedAlphabeticallyWhenTheSetHasNoOrder() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UrlOptions.parse(SUBJECT, "size=1", Set.of("touchMillis", "capacity", "fsync")));
        assertEquals(SUBJECT + ": option 'size' (expected: capacity, fsync or touchMillis)", e.getMessage());
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
                () -> UrlOptions.parse(SUBJECT, "size=1", Set.of("capacity")));
        assertEquals(SUBJECT + ": option 'size' (expected: capacity)", one.getMessage());
    }

    @Test
    void tierUrlsReadTheirOptionsTheSameWay() {
        TierUrl u = TierUrl.parse("file:///var/cache/kv%20a?capacity=2g&", "file", Set.of("capacity"));
        assertEquals("/var/cache/kv a", u.path());
        assertEquals(Map.of("capacity", "2g"), u.options());
        assertEquals(2L << 30, u.bytes("capacity", -1, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TierUrl.parse("cpu://?capacity=0", "cpu", Set.of("capacity")).bytes("capacity", -1, 1));
        assertEquals("tier URL 'cpu://?capacity=0': capacity 0 (expected: at least 1 bytes)", e.getMessage());
        IllegalArgumentException path = assertThrows(IllegalArgumentException.class,
                () -> TierUrl.parse("file:///kv%zz", "file", Set.of("capacity")));
        assertEquals("tier URL 'file:///kv%zz': bad percent-encoding in the path (expected: %XX with two hexadecimal digits,"
                + " such as %40 for '@')", path.getMessage());
    }
}
