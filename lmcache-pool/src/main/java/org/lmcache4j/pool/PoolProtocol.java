package org.lmcache4j.pool;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.lmcache4j.api.ChunkKey;

/**
 * The requests an engine sends its pool's coordinator over the Unix-domain socket, one at a time per
 * connection, each answered (RELEASE excepted) before the next: an int opcode, its arguments, then the answer's fields. Bulk
 * bytes never cross the socket: only keys, slot numbers and generations.
 */
final class PoolProtocol {

    /** name (UTF), slot bytes (long), slots wanted (int) -> ok (boolean), message or pool path (UTF), slots (int). */
    static final int ATTACH = 1;
    /** count, keys -> one boolean each: indexed (recency untouched). */
    static final int LOOKUP = 2;
    /** key -> slot (int, -1 on a miss), generation (long): the slot is held for this client until RELEASE or the lease. */
    static final int ACQUIRE = 3;
    /** slot, generation -> no answer at all: one way, so a hit's release costs the engine no round trip. */
    static final int RELEASE = 4;
    /** key, length (long) -> slot (int; -1 full, -2 held already, -3 too large), generation. */
    static final int ALLOCATE = 5;
    /** slot, generation -> true when the chunk is now READY and indexed. */
    static final int COMMIT = 6;
    /** slot, generation -> nothing: the write is given up. */
    static final int ABORT = 7;
    /** slot -> nothing: a writer found its allocation revoked after it wrote; whatever the slot holds now is dropped. */
    static final int INVALIDATE = 8;
    /** key -> true when it was indexed. */
    static final int REMOVE = 9;
    /** key, millis -> true when indexed (now protected from eviction). */
    static final int PIN = 10;
    /** key -> nothing. */
    static final int UNPIN = 11;
    /** -> nothing: every indexed chunk removed. */
    static final int CLEAR = 12;
    /** -> ready slots, writing slots, slot count, slot bytes, held (reader) slots. */
    static final int STATS = 13;
    /** -> count, then each problem (UTF): an empty list means the pool is consistent. */
    static final int FSCK = 14;
    /** count, keys -> for each key what ACQUIRE answers: a retrieve holds the rest of its prompt in one round trip. */
    static final int ACQUIRE_ALL = 15;
    /** count, then slot and generation each -> no answer: RELEASE of many holds in one message. */
    static final int RELEASE_ALL = 16;

    static final int MISS = -1;
    static final int FULL = -1;
    static final int EXISTS = -2;
    static final int TOO_LARGE = -3;

    private PoolProtocol() {
    }

    static void writeKey(DataOutputStream out, ChunkKey key) throws IOException {
        out.writeByte(key.length());
        out.write(key.toBytes());
    }

    /** The most keys one request may carry: a 1M-token prompt in 256-token chunks is 4,096. */
    static final int MAX_KEYS = 1 << 16;

    static int readCount(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_KEYS) {
            throw new IOException("a request of " + n + " keys (expected: 0 to " + MAX_KEYS + ")");
        }
        return n;
    }

    /** A count ({@link #readCount}), then that many keys. */
    static ChunkKey[] readKeys(DataInputStream in) throws IOException {
        ChunkKey[] keys = new ChunkKey[readCount(in)];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = readKey(in);
        }
        return keys;
    }

    static ChunkKey readKey(DataInputStream in) throws IOException {
        int n = in.readUnsignedByte();
        if (n < 16 || n > PoolFile.MAX_KEY_BYTES) {
            throw new IOException("key of " + n + " bytes (expected: 16 to " + PoolFile.MAX_KEY_BYTES + ")");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return ChunkKey.of(b);
    }
}
