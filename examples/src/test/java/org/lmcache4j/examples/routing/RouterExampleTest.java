package org.lmcache4j.examples.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The router follows the replicas' KV events: longest cached prefix wins, evictions are seen. */
class RouterExampleTest {

    @Test
    void requestsGoWhereTheirPrefixIsCachedAndEvictionsAreFollowed() throws Exception {
        List<String> lines = RouterExample.run();
        assertTrue(lines.get(0).matches("question about document A\\s+-> replica-a\\s+\\(4 of 4 chunks cached there\\)"), lines.get(0));
        assertTrue(lines.get(1).matches("question about document B\\s+-> replica-b\\s+\\(4 of 4 chunks cached there\\)"), lines.get(1));
        assertTrue(lines.get(2).startsWith("a new document") && lines.get(2).contains("-> any"), lines.get(2));
        assertTrue(lines.get(3).contains("-> any"), "replica A evicted document A: " + lines.get(3));
        assertEquals("events lost in transit: 0", lines.get(4));
    }
}
