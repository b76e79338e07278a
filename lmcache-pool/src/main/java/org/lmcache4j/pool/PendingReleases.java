package org.lmcache4j.pool;

import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Holds an engine is done with, sent to the coordinator together rather than each at once. A retrieve's chunks are
 * released in one RELEASE_ALL that rides on the engine's next request (one write instead of two, and none while the
 * engine waits on its retrieve) or, when the engine sends nothing meanwhile, on a flush of its own: within
 * {@link #FLUSH_MILLIS} while the engine is busy, {@link #IDLE_FLUSH_MILLIS} after a second without releases. Until
 * then the chunks stay held (another engine's store cannot evict them). A hold of an earlier connection is dropped:
 * its coordinator ended it when that connection ended. Thread-safe.
 */
final class PendingReleases {

    /** The longest a released chunk stays held after its reader is done with it, while the engine is busy. */
    static final long FLUSH_MILLIS = 5;
    /** The same after a second without releases. */
    static final long IDLE_FLUSH_MILLIS = 100;

    private final List<long[]> pending = new ArrayList<>(); // {slot, generation, epoch}

    /** Queues the release of {@code slot} at {@code generation}, held under connection {@code epoch}. */
    synchronized void add(int slot, long generation, long epoch) {
        pending.add(new long[] {slot, generation, epoch});
    }

    synchronized void clear() {
        pending.clear();
    }

    synchronized boolean isEmpty() {
        return pending.isEmpty();
    }

    /** Writes every pending release held under {@code epoch} as RELEASE_ALL messages (no answer) and forgets them all. */
    void writeTo(DataOutputStream out, long epoch) throws IOException {
        List<long[]> live = new ArrayList<>();
        synchronized (this) {
            for (long[] p : pending) {
                if (p[2] == epoch) {
                    live.add(p);
                }
            }
            pending.clear();
        }
        for (int from = 0; from < live.size(); from += PoolProtocol.MAX_KEYS) {
            List<long[]> part = live.subList(from, Math.min(live.size(), from + PoolProtocol.MAX_KEYS));
            out.writeInt(PoolProtocol.RELEASE_ALL);
            out.writeInt(part.size());
            for (long[] p : part) {
                out.writeInt((int) p[0]);
                out.writeLong(p[1]);
            }
        }
    }
}
