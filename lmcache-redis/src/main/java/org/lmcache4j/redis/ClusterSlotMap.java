package org.lmcache4j.redis;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import redis.clients.jedis.HostAndPort;

/**
 * Which master serves each of a Redis Cluster's 16384 hash slots, as one node's {@code CLUSTER SLOTS}
 * reported it. Immutable: a newer map replaces it whole ({@link ClusterTopology}).
 */
final class ClusterSlotMap {

    static final int SLOTS = 16384;

    private final HostAndPort[] masterOfSlot;
    private final Set<HostAndPort> masters;

    private ClusterSlotMap(HostAndPort[] masterOfSlot) {
        this.masterOfSlot = masterOfSlot;
        Set<HostAndPort> all = new LinkedHashSet<>();
        for (HostAndPort m : masterOfSlot) {
            if (m != null) {
                all.add(m);
            }
        }
        this.masters = Set.copyOf(all);
    }

    /**
     * The map in a {@code CLUSTER SLOTS} reply (RESP2: per range its first and last slot, then the master's
     * endpoint, port and id, then the replicas'), asked of {@code askedHost}: an empty endpoint means the
     * node asked.
     *
     * @throws IllegalArgumentException when the reply is not of that shape
     */
    static ClusterSlotMap parse(List<?> reply, String askedHost) {
        HostAndPort[] bySlot = new HostAndPort[SLOTS];
        for (Object r : reply) {
            if (!(r instanceof List<?> range) || range.size() < 3 || !(range.get(0) instanceof Long first)
                    || !(range.get(1) instanceof Long last) || !(range.get(2) instanceof List<?> master) || master.size() < 2
                    || !(master.get(1) instanceof Long port) || first < 0 || last >= SLOTS || first > last) {
                throw new IllegalArgumentException("CLUSTER SLOTS reply entry " + r + " (expected: [first, last, [host, port, ...], ...])");
            }
            String host = master.get(0) instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(master.get(0));
            HostAndPort node = new HostAndPort(host.isEmpty() || host.equals("?") ? askedHost : host, port.intValue());
            for (int s = first.intValue(); s <= last; s++) {
                bySlot[s] = node;
            }
        }
        return new ClusterSlotMap(bySlot);
    }

    /** The master of {@code slot}; null when no node serves it. */
    HostAndPort masterOf(int slot) {
        return masterOfSlot[slot];
    }

    /** Every master that serves a slot. */
    Set<HostAndPort> masters() {
        return masters;
    }
}
