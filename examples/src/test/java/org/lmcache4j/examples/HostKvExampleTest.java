package org.lmcache4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The example the README points at runs and reports identical KV. */
class HostKvExampleTest {

    @Test
    void theExampleRetrievesTheSharedPrefixByteForByte() {
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            HostKvExample.main(new String[] {"1024"});
        } finally {
            System.setOut(original);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("lookup hit 1024, retrieved 1024"), text);
        assertTrue(text.contains("kv identical      true"), text);
    }
}
