package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.HostAndPort;

/** A {@code CLUSTER SLOTS} reply read into a map from slot to master: ranges, replicas ignored, gaps, the asked node's endpoint. */
class ClusterSlotMapTest {

    private static List<Object> node(String host, long port) {
        return List.of(host.getBytes(StandardCharsets.UTF_8), port, "id".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void slotsMapToTheMasterOfTheirRange() {
        ClusterSlotMap m = ClusterSlotMap.parse(List.of(
                List.of(0L, 5460L, node("10.0.0.1", 7000), node("10.0.0.4", 7003)),
                List.of(5461L, 10922L, node("", 7001)),
                List.of(12000L, 16383L, node("10.0.0.3", 7002))), "10.0.0.9");
        assertEquals(new HostAndPort("10.0.0.1", 7000), m.masterOf(0));
        assertEquals(new HostAndPort("10.0.0.1", 7000), m.masterOf(5460));
        assertEquals(new HostAndPort("10.0.0.9", 7001), m.masterOf(5461), "an empty endpoint is the node asked");
        assertNull(m.masterOf(11000), "a slot no master serves");
        assertEquals(new HostAndPort("10.0.0.3", 7002), m.masterOf(16383));
        assertEquals(Set.of(new HostAndPort("10.0.0.1", 7000), new HostAndPort("10.0.0.9", 7001), new HostAndPort("10.0.0.3", 7002)),
                m.masters(), "replicas are not masters");
    }

    @Test
    void aReplyOfAnotherShapeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> ClusterSlotMap.parse(List.of(List.of(0L, 16384L, node("h", 1))), "h"));
        assertThrows(IllegalArgumentException.class, () -> ClusterSlotMap.parse(List.of(List.of("x")), "h"));
    }
}
