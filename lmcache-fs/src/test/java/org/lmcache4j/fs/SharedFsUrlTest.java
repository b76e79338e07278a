package org.lmcache4j.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fs tier's URL errors, read by the tier toolkit: each names the URL, the option, its value and what was expected. */
class SharedFsUrlTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "fs:///kv                         | no capacity (expected: the bytes all engines may keep in the shared directory",
        "fs://kv?capacity=1g              | path '' (expected: an absolute directory path, such as fs:///mnt/kv?capacity=500g)",
        "fs:///kv?capacity=1g&size=2      | option 'size' (expected: capacity, codec, fsync, staleTempMillis, sweepMillis or touchMillis)",
        "fs:///kv?capacity=0              | capacity 0 (expected: at least 1 bytes)",
        "fs:///kv?capacity=lots           | capacity 'lots' (expected: bytes, optionally with a k, m, g or t suffix)",
        "fs:///kv?capacity=1g&sweepMillis=-1 | sweepMillis -1 (expected: milliseconds, at least 0)",
        "fs:///kv?capacity=1g&touchMillis=x  | touchMillis 'x' (expected: milliseconds, at least 0)",
        "fs:///kv?capacity=1g&fsync=maybe | fsync 'maybe' (expected: true or false)",
        "fs:///kv?capacity                | an option without '=' (expected: name=value)",
    })
    void badUrlsNameThePartAndTheExpectation(String url, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SharedFsUrl.parse(url));
        String expected = "tier URL '" + url + "': " + message;
        assertEquals(expected, e.getMessage().substring(0, Math.min(e.getMessage().length(), expected.length())), e.getMessage());
    }
}
