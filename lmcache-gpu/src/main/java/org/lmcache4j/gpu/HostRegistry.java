package org.lmcache4j.gpu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The host ranges registered with the driver, by start address: which one, if any, holds a chunk buffer. */
final class HostRegistry {

    private final TreeMap<Long, MemorySegment> ranges = new TreeMap<>();

    /** Records {@code host}; fails if it overlaps a range already recorded. */
    synchronized void add(MemorySegment host) {
        Map.Entry<Long, MemorySegment> below = ranges.floorEntry(host.address() + host.byteSize() - 1);
        if (below != null && end(below.getValue()) > host.address()) {
            throw new IllegalArgumentException("host memory: " + describe(host) + " overlaps the registered "
                    + describe(below.getValue()) + " (expected: disjoint registrations)");
        }
        ranges.put(host.address(), host);
    }

    /** Forgets {@code host}; true when it was recorded. */
    synchronized boolean remove(MemorySegment host) {
        return ranges.remove(host.address(), host);
    }

    /** The recorded range holding all {@code bytes} of {@code chunk} from its start. */
    synchronized Optional<MemorySegment> containing(MemorySegment chunk, long bytes) {
        Map.Entry<Long, MemorySegment> e = ranges.floorEntry(chunk.address());
        if (e == null || chunk.address() + bytes > end(e.getValue())) {
            return Optional.empty();
        }
        return Optional.of(e.getValue());
    }

    synchronized List<MemorySegment> all() {
        return new ArrayList<>(ranges.values());
    }

    private static long end(MemorySegment s) {
        return s.address() + s.byteSize();
    }

    static String describe(MemorySegment s) {
        return s.byteSize() + " bytes at 0x" + Long.toHexString(s.address());
    }
}
