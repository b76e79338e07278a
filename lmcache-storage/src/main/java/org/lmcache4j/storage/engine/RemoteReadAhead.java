package org.lmcache4j.storage.engine;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.cpu.ChunkPage;

/**
 * Chunks of one retrieve read from the {@code remote} tier ahead of the walk that will ask for them: the
 * tier reads a batch of a prompt's chunks in one pipeline ({@link org.lmcache4j.api.spi.StorageTier#readAllInto}), each into a
 * reserved cpu page, so the server streams them back to back instead of waiting for this client between
 * chunks; the walk takes each page when it reaches its chunk and commits it to the cpu tier then, counted
 * as a load from the remote tier.
 *
 * <p>Each page held here carries its allocation's reference and is in no index, so eviction cannot touch
 * it and it costs the cpu tier's budget like any reserved page. Pages the walk never takes (it stopped at
 * a miss, the deadline, a failure) are released by {@link #close()}, which the retrieve calls when it ends.
 * Not thread-safe: one per engine call.
 */
final class RemoteReadAhead implements AutoCloseable {

    /** A page read ahead and the length of the chunk in it. */
    record Page(ChunkPage page, long bytes) {
    }

    private final int chunks;
    private final Map<ChunkKey, Page> pages = new HashMap<>();
    private boolean closed;

    /** @param chunks chunks read in one batch at most, the one asked for included (1: no read-ahead) */
    RemoteReadAhead(int chunks) {
        if (chunks < 1) {
            throw new IllegalArgumentException("chunks: " + chunks + " (expected: at least 1)");
        }
        this.chunks = chunks;
    }

    /** Chunks read in one batch at most, the one asked for included. */
    int chunks() {
        return chunks;
    }

    /** Keeps {@code page}, holding chunk {@code key} of {@code bytes}, for the walk; released at once after close. */
    void hold(ChunkKey key, ChunkPage page, long bytes) {
        if (closed) {
            page.release();
            return;
        }
        Page old = pages.put(key, new Page(page, bytes));
        if (old != null) {
            old.page().release();
        }
    }

    /** True when a page of {@code key} is held. */
    boolean holds(ChunkKey key) {
        return pages.containsKey(key);
    }

    /** The page of {@code key}, handed over with its reference (the caller releases or commits it); empty when none is held. */
    Optional<Page> take(ChunkKey key) {
        return Optional.ofNullable(pages.remove(key));
    }

    /** Pages held now. */
    int held() {
        return pages.size();
    }

    /** Releases every page the walk did not take. Idempotent. */
    @Override
    public void close() {
        closed = true;
        for (Page p : pages.values()) {
            p.page().release();
        }
        pages.clear();
    }
}
