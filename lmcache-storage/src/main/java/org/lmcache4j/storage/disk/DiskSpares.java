package org.lmcache4j.storage.disk;

import java.util.ArrayDeque;

/**
 * The {@code disk} tier's spare files: files of chunks that left the tier (removed or cleared), kept to be
 * written over by later puts instead of deleting one file and creating another. An overwrite of a file whose
 * blocks are allocated and whose pages are cached costs this machine kind a little over half the engine compute
 * a new file costs ({@code bin/lmcache bench --write-cost}, docs/PERFORMANCE.md), as databases find when they
 * recycle their log segments. The pool is small (at most {@value #MAX_FILES} files and an eighth of the tier's
 * budget), and its bytes count against the budget like the chunks' (a tier's files never exceed it). A close
 * deletes the spare files; a start deletes any a crash left.
 *
 * <p>Not thread-safe: {@link DiskIndex} guards it with its lock. A spare is in the pool only once its file
 * sits at its spare name; one being moved there holds a slot ({@link #reserve}) until then.
 */
final class DiskSpares {

    /** Most spare files kept at once. */
    static final int MAX_FILES = 64;

    /**
     * One spare file.
     *
     * @param id        its number, which names its file ({@link DiskChunkFiles#sparePath})
     * @param sizeBytes its length
     */
    record Spare(long id, long sizeBytes) {
    }

    private final ArrayDeque<Spare> pool = new ArrayDeque<>();
    private final long maxBytes;
    private long bytes;
    private int pendingFiles;
    private long pendingBytes;
    private long nextId;

    /** A pool for a tier of {@code capacityBytes}. */
    DiskSpares(long capacityBytes) {
        this.maxBytes = capacityBytes / 8;
    }

    /** Bytes of the spare files in the pool (not of those being moved in). */
    long bytes() {
        return bytes;
    }

    /** Spare files in the pool. */
    int files() {
        return pool.size();
    }

    /**
     * Holds a place for a file of {@code sizeBytes} about to be moved in: returns its id, or -1 when the
     * pool has no room for it (the file is then deleted instead).
     */
    long reserve(long sizeBytes) {
        if (pool.size() + pendingFiles >= MAX_FILES || bytes + pendingBytes + sizeBytes > maxBytes) {
            return -1;
        }
        pendingFiles++;
        pendingBytes += sizeBytes;
        return nextId++;
    }

    /** Ends a {@link #reserve}: the file of {@code s} is at its spare name. */
    void added(Spare s) {
        unreserve(s.sizeBytes());
        pool.addLast(s);
        bytes += s.sizeBytes();
    }

    /** Ends a {@link #reserve} whose file could not be moved in. */
    void unreserve(long sizeBytes) {
        pendingFiles--;
        pendingBytes -= sizeBytes;
    }

    /** Takes the spare added last (its pages the likeliest to be cached); null when none. */
    Spare takeNewest() {
        return taken(pool.pollLast());
    }

    /** Takes the spare added first; null when none. */
    Spare takeOldest() {
        return taken(pool.pollFirst());
    }

    /** Puts back, as the newest, a spare taken by a put that was then refused. */
    void putBack(Spare s) {
        pool.addLast(s);
        bytes += s.sizeBytes();
    }

    private Spare taken(Spare s) {
        if (s != null) {
            bytes -= s.sizeBytes();
        }
        return s;
    }
}
