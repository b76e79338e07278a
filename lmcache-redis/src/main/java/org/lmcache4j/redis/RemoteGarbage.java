package org.lmcache4j.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Headers of dropped chunks whose parts this process deleted, waiting to be taken out of the namespace's
 * garbage set ({@link RemoteIndex}) by the next admission, so that no extra round trip is spent on it.
 * Bounded: a header that does not fit is forgotten here and stays in the garbage set, where a later put
 * (of any engine) deletes its parts again, which is harmless, and then takes it out.
 */
final class RemoteGarbage {

    /** Deleted headers kept for confirmation at most. */
    static final int MAX_PENDING = 4096;

    private final ConcurrentLinkedQueue<byte[]> deleted = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();

    /** Records that the parts of these chunks are deleted. */
    void deleted(List<byte[]> headers) {
        for (byte[] h : headers) {
            if (size.incrementAndGet() > MAX_PENDING) {
                size.decrementAndGet();
                return;
            }
            deleted.add(h);
        }
    }

    /** Takes up to {@code max} deleted headers, to be confirmed by one admission. */
    List<byte[]> take(int max) {
        List<byte[]> out = new ArrayList<>();
        byte[] h;
        while (out.size() < max && (h = deleted.poll()) != null) {
            size.decrementAndGet();
            out.add(h);
        }
        return out;
    }

    /** Headers waiting for confirmation now. */
    int pending() {
        return size.get();
    }
}
