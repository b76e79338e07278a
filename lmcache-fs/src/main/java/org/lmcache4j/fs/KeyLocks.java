package org.lmcache4j.fs;

import java.util.concurrent.locks.ReentrantLock;
import org.lmcache4j.api.ChunkKey;

/**
 * Striped locks by chunk key, so that within one engine a write, a removal, an eviction and a sweep's
 * bookkeeping of one key's file never interleave (the engine's view must match its own changes to the
 * directory exactly). Other engines do not take them: across processes, only atomic renames and
 * checksums keep readers safe.
 */
final class KeyLocks {

    private static final int STRIPES = 64;

    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];

    KeyLocks() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    /** The lock of {@code key}'s stripe. */
    ReentrantLock of(ChunkKey key) {
        return stripes[Math.floorMod(key.hashCode(), STRIPES)];
    }
}
