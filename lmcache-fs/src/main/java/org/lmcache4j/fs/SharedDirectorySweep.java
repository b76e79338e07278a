package org.lmcache4j.fs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.tier.ChunkFileNames;

/**
 * One pass over the shared directory, which any engine may run at any time, as many at once as like:
 * <ol>
 *   <li>lists every shard directory, and deletes temporary files older than the stale age (left by
 *       writers killed before their rename; a live writer's file is younger, as it writes it);</li>
 *   <li>adds the chunk files other engines wrote to this engine's view, stamped with their modification
 *       time, and forgets the ones that vanished (another engine's sweep or removal);</li>
 *   <li>evicts the least recently used chunks, by that stamp, until the view is within the budget.</li>
 * </ol>
 * Files that vanish under it are skipped, never an error: other engines delete concurrently. Engines
 * sweeping at once see about the same listing and so pick about the same victims; together they may
 * delete a little more than needed, never a file being written (temporary until renamed) and never one
 * this engine pins or reads. Other engines' pins are not seen: their reads then miss, as after any eviction.
 */
final class SharedDirectorySweep {

    /** What a pass did. */
    record Result(int chunkFiles, int adopted, int forgotten, int evicted, int staleTempsDeleted) {
    }

    private final SharedChunkFiles files;
    private final SharedFsIndex index;
    private final KeyLocks locks;
    private final long staleTempMillis;

    SharedDirectorySweep(SharedChunkFiles files, SharedFsIndex index, KeyLocks locks, long staleTempMillis) {
        this.files = files;
        this.index = index;
        this.locks = locks;
        this.staleTempMillis = staleTempMillis;
    }

    /**
     * Runs one pass; {@code evicted} receives the keys evicted. Victims are forgotten and deleted one at a
     * time, outside the view's lock, so readers never wait for the file system's deletes; a reader that
     * opened a victim's file just before keeps reading it (the open file outlives its name).
     *
     * @throws IOException when the directory cannot be listed
     */
    Result run(List<ChunkKey> evicted) throws IOException {
        long mark = index.mark();
        long now = System.currentTimeMillis();
        Map<ChunkKey, BasicFileAttributes> listed = new HashMap<>();
        int temps = deleteStaleTemps(files.dir(), now);
        try (DirectoryStream<Path> shards = Files.newDirectoryStream(files.dir(),
                p -> p.getFileName().toString().matches("[0-9a-f]{2}") && Files.isDirectory(p))) {
            for (Path shard : shards) {
                temps += listShard(shard, now, listed);
            }
        }
        int adopted = 0;
        for (Map.Entry<ChunkKey, BasicFileAttributes> f : listed.entrySet()) {
            if (!index.known(f.getKey()) && underLock(f.getKey(), () -> Files.exists(files.pathOf(f.getKey()))
                    && index.adopt(f.getKey(), f.getValue().size(), f.getValue().lastModifiedTime().toMillis()))) {
                adopted++;
            }
        }
        int forgotten = 0;
        for (ChunkKey k : index.presentBefore(mark, listed.keySet())) {
            if (underLock(k, () -> !Files.exists(files.pathOf(k)) && index.forget(k))) {
                forgotten++;
            }
        }
        int before = evicted.size();
        Set<ChunkKey> busy = new HashSet<>();
        for (ChunkKey v; (v = index.oldestEvictableOverBudget(busy)) != null; ) {
            ChunkKey victim = v;
            if (underLock(victim, () -> index.forgetIfEvictable(victim) && delete(files.pathOf(victim)))) {
                evicted.add(victim);
            } else {
                busy.add(victim);
            }
        }
        return new Result(listed.size(), adopted, forgotten, evicted.size() - before, temps);
    }

    /** Deletes an evicted chunk's file; true also when it was gone already (another engine's sweep). */
    private static boolean delete(Path file) throws IOException {
        Files.deleteIfExists(file);
        return true;
    }

    /** Lists one shard into {@code listed}, deleting its stale temporary files; returns how many it deleted. */
    private int listShard(Path shard, long now, Map<ChunkKey, BasicFileAttributes> listed) throws IOException {
        int temps = 0;
        try (DirectoryStream<Path> in = Files.newDirectoryStream(shard)) {
            for (Path f : in) {
                BasicFileAttributes a = attributes(f);
                if (a == null || !a.isRegularFile()) {
                    continue;
                }
                if (ChunkFileNames.isTemp(f)) {
                    temps += deleteIfStale(f, a, now);
                } else {
                    ChunkFileNames.keyOf(f).ifPresent(k -> listed.put(k, a));
                }
            }
        } catch (NoSuchFileException e) {
            // the shard was removed meanwhile
        }
        return temps;
    }

    /** Deletes stale temporary files directly in {@code dir} (of the identity record). */
    private int deleteStaleTemps(Path dir, long now) throws IOException {
        int temps = 0;
        try (DirectoryStream<Path> in = Files.newDirectoryStream(dir, ChunkFileNames::isTemp)) {
            for (Path f : in) {
                BasicFileAttributes a = attributes(f);
                temps += a == null ? 0 : deleteIfStale(f, a, now);
            }
        }
        return temps;
    }

    private int deleteIfStale(Path f, BasicFileAttributes a, long now) throws IOException {
        return now - a.lastModifiedTime().toMillis() >= staleTempMillis && Files.deleteIfExists(f) ? 1 : 0;
    }

    private static BasicFileAttributes attributes(Path f) throws IOException {
        try {
            return Files.readAttributes(f, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return null; // vanished between listing and stat
        }
    }

    /** Runs {@code check} under {@code key}'s lock if it is free now (else false: someone is busy with it). */
    private boolean underLock(ChunkKey key, IoCheck check) throws IOException {
        ReentrantLock lock = locks.of(key);
        if (!lock.tryLock()) {
            return false;
        }
        try {
            return check.test();
        } finally {
            lock.unlock();
        }
    }

    @FunctionalInterface
    private interface IoCheck {
        boolean test() throws IOException;
    }
}
