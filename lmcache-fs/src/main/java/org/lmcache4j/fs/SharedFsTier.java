package org.lmcache4j.fs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.TierRefusedException;
import org.lmcache4j.api.spi.TierUnavailableException;
import org.lmcache4j.storage.tier.ChunkFileNames;
import org.lmcache4j.storage.tier.CodecUnavailableException;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.storage.tier.HeldChunkBuffer;
import org.lmcache4j.storage.tier.TierCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code fs} tier: chunk files in a directory that many engines, on many machines, read and write at
 * once ({@link SharedChunkFiles} for the layout and the publish by rename, {@link SharedFsIndex} for this
 * engine's view and budget, {@link SharedDirectorySweep} for the periodic pass that keeps the directory
 * within budget and removes what killed writers left).
 *
 * <p>Implementation notes. No lock is shared between engines: a chunk's file appears whole by an atomic
 * rename, and a reader checks it (header, key, length, CRC32C) and treats anything else as a miss, deleting
 * the file. A file can vanish between any two steps (another engine evicted it): every such case is a
 * miss, never an error. Within this engine a key's file is changed only under its {@link KeyLocks} stripe,
 * so the view matches this engine's own changes exactly; readers take no stripe, only a hold in the view.
 * Writes are synchronous here: the connector writes slower tiers behind its stores on its own threads
 * ({@code WriteBehind} in lmcache-storage) and cuts retrieves that would load too slowly, as for every
 * tier below the cpu tier.
 */
final class SharedFsTier implements StorageTier {

    private static final Logger LOG = LoggerFactory.getLogger(SharedFsTier.class);

    /** Name in logs, metrics and stats. */
    static final String NAME = "fs";
    private static final long PAYLOAD_ALIGNMENT = 64;

    private final SharedFsUrl url;
    private final SharedChunkFiles files;
    private final SharedFsIndex index;
    private final KeyLocks locks = new KeyLocks();
    private final SharedDirectorySweep sweep;
    private final ScheduledExecutorService sweeper;
    private final LongAdder errors = new LongAdder();
    private final AtomicLong corruptDropped = new AtomicLong();
    private final AtomicLong undecodable = new AtomicLong();
    private volatile Consumer<ChunkKey> evictionListener = key -> { };
    private volatile Consumer<ChunkKey> corruptionListener = key -> { };
    private volatile boolean closed;

    private SharedFsTier(SharedFsUrl url, Path dir, String layoutFingerprint, TierCodec codec) {
        this.url = url;
        this.files = new SharedChunkFiles(dir, new DiskChunkFormat(layoutFingerprint), url.fsync(), codec);
        this.index = new SharedFsIndex(url.capacityBytes());
        this.sweep = new SharedDirectorySweep(files, index, locks, url.staleTempMillis());
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("lmcache-fs-sweep")
                .unstarted(r));
        // The first pass soon (it learns what other engines stored), then spread: engines that start together
        // do not sweep in step. sweepMillis 0: no sweeps of this engine's own (others sweep, or tests call sweep()).
        if (url.sweepMillis() > 0) {
            long first = ThreadLocalRandom.current().nextLong(Math.min(url.sweepMillis(), 5_000) + 1);
            sweeper.scheduleWithFixedDelay(this::sweepQuietly, first, url.sweepMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Opens the tier at {@code url} for {@code identity}'s chunks, in the subdirectory
     * {@link CacheIdentity#directoryName()} of the URL's directory.
     *
     * @throws TierRefusedException     when that directory holds KV of another identity
     * @throws TierUnavailableException when it cannot be created or read
     */
    static SharedFsTier open(SharedFsUrl url, CacheIdentity identity) {
        return open(url, identity, TierCodec.raw());
    }

    /** As {@link #open(SharedFsUrl, CacheIdentity)}, writing chunks through {@code codec}. */
    static SharedFsTier open(SharedFsUrl url, CacheIdentity identity, TierCodec codec) {
        Path dir = url.directory().resolve(identity.directoryName());
        Optional<String> refused;
        try {
            refused = SharedIdentityRecord.claim(dir, identity);
        } catch (IOException | RuntimeException e) {
            throw new TierUnavailableException(NAME, "fs tier directory " + dir + ": " + e, e);
        }
        if (refused.isPresent()) {
            throw new TierRefusedException(NAME, refused.get(), null);
        }
        return new SharedFsTier(url, dir, identity.namespace().layoutFingerprint(), codec);
    }

    /** The directory of this identity's chunk files. */
    Path directory() {
        return files.dir();
    }

    @Override
    public String name() {
        return NAME;
    }

    /** True with a lossy codec configured: only then are lossy chunks read from here (TierCodec). */
    @Override
    public boolean servesLossy() {
        return files.lossy();
    }

    @Override
    public boolean contains(ChunkKey key) {
        checkOpen();
        return Files.exists(files.pathOf(key));
    }

    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        checkOpen();
        index.hold(key);
        boolean handedOver = false;
        try {
            Optional<FileChannel> opened = files.open(key);
            if (opened.isEmpty()) {
                return Optional.empty();
            }
            Path file = files.pathOf(key);
            try (FileChannel ch = opened.get()) {
                DiskChunkFormat.Header h = files.header(ch, file, key);
                Arena arena = Arena.ofShared();
                boolean ok = false;
                try {
                    MemorySegment bytes = arena.allocate(Math.max(1, h.logicalBytes()), PAYLOAD_ALIGNMENT)
                            .asSlice(0, h.logicalBytes());
                    files.readChunk(ch, file, h, bytes);
                    ok = true;
                    used(key, file);
                    handedOver = true;
                    return Optional.of(new HeldChunkBuffer(key, bytes, () -> {
                        arena.close();
                        index.release(key);
                    }));
                } finally {
                    if (!ok) {
                        arena.close();
                    }
                }
            }
        } catch (CorruptChunkException e) {
            dropCorrupt(key, e);
            return Optional.empty();
        } catch (IOException e) {
            return vanished(e, key, Optional.empty());
        } finally {
            if (!handedOver) {
                index.release(key);
            }
        }
    }

    @Override
    public long readInto(ChunkKey key, MemorySegment target) {
        checkOpen();
        index.hold(key);
        try {
            Optional<FileChannel> opened = files.open(key);
            if (opened.isEmpty()) {
                return -1;
            }
            Path file = files.pathOf(key);
            try (FileChannel ch = opened.get()) {
                DiskChunkFormat.Header h = files.header(ch, file, key);
                if (h.logicalBytes() > target.byteSize()) {
                    throw new IllegalArgumentException("chunk " + key + ": " + h.logicalBytes() + " bytes (expected: at most "
                            + target.byteSize() + ", the target's size)");
                }
                files.readChunk(ch, file, h, target.asSlice(0, h.logicalBytes()));
                used(key, file);
                return h.logicalBytes();
            }
        } catch (CorruptChunkException e) {
            dropCorrupt(key, e);
            return -1;
        } catch (IOException e) {
            return vanished(e, key, -1L);
        } finally {
            index.release(key);
        }
    }

    /**
     * A read that failed because the file went away under it: on NFS, a file another client deleted while
     * this one had it open reads as "Stale file handle". A miss; any other failure is the tier's.
     */
    private <T> T vanished(IOException e, ChunkKey key, T miss) {
        if (e instanceof NoSuchFileException || String.valueOf(e.getMessage()).contains("Stale file handle")) {
            return miss;
        }
        throw new UncheckedIOException("fs tier " + files.pathOf(key) + ": read failed", e);
    }

    /** A read of {@code key} succeeded: younger in this view, and in the file's time once per touch interval. */
    private void used(ChunkKey key, Path file) {
        index.touch(key);
        try {
            long now = System.currentTimeMillis();
            if (now - Files.getLastModifiedTime(file).toMillis() >= url.touchMillis()) {
                Files.setLastModifiedTime(file, FileTime.fromMillis(now));
            }
        } catch (IOException | RuntimeException e) {
            // gone or not ours to touch: it only ages sooner
        }
    }

    /**
     * A torn, corrupt or foreign file: never served, deleted, reported. One this engine cannot decode (its
     * codec's module is missing here) is a miss and stays: other engines of the directory may read it.
     */
    private void dropCorrupt(ChunkKey key, CorruptChunkException e) {
        if (e instanceof CodecUnavailableException) {
            long n = undecodable.incrementAndGet();
            if (n <= 10 || Long.bitCount(n) == 1) {
                LOG.warn("{}; a miss here, left for engines that can decode it ({} such reads so far)", e.getMessage(), n);
            }
            return;
        }
        long n = corruptDropped.incrementAndGet();
        if (n <= 10 || Long.bitCount(n) == 1) {
            LOG.warn("{}; deleted, the chunk is a miss ({} such files so far)", e.getMessage(), n);
        }
        ReentrantLock lock = locks.of(key);
        lock.lock();
        try {
            Files.deleteIfExists(files.pathOf(key));
            index.forget(key);
        } catch (IOException ignored) {
            // another engine deletes it, or its own sweep forgets it
        } finally {
            lock.unlock();
        }
        corruptionListener.accept(key);
    }

    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        checkOpen();
        files.requireFits(payload.byteSize(), key);
        Path file = files.pathOf(key);
        if (Files.exists(file)) {
            return true; // the first content stays: it is the same whoever computed it
        }
        // encoded before the key's lock, which is striped: a slow encode must not hold up other keys
        TierCodec.Encoded chunk = files.encode(payload);
        long bytes = DiskChunkFormat.fileBytes(chunk.bytes().byteSize());
        if (bytes > url.capacityBytes()) {
            return false;
        }
        List<ChunkKey> evicted = new ArrayList<>();
        ReentrantLock lock = locks.of(key);
        lock.lock();
        try {
            if (Files.exists(file)) {
                return true; // another writer published it meanwhile
            }
            index.forget(key); // known here but deleted by another engine: write it again
            if (!index.reserve(key, bytes, this::evictFile, evicted)) {
                return false;
            }
            boolean ok = false;
            try {
                files.publish(key, chunk);
                index.commit(key);
                ok = true;
                return true;
            } finally {
                if (!ok) {
                    index.forget(key);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("fs tier " + file + ": write failed", e);
        } finally {
            lock.unlock();
            evicted.forEach(evictionListener);
        }
    }

    /** Deletes an eviction victim's file unless another thread of this engine is busy with its key. */
    private boolean evictFile(ChunkKey victim) {
        ReentrantLock lock = locks.of(victim);
        if (!lock.tryLock()) {
            return false;
        }
        try {
            Files.deleteIfExists(files.pathOf(victim));
            return true;
        } catch (IOException e) {
            errors.increment();
            return false;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean remove(ChunkKey key) {
        checkOpen();
        ReentrantLock lock = locks.of(key);
        lock.lock();
        try {
            boolean existed = Files.deleteIfExists(files.pathOf(key));
            index.forget(key);
            index.unpinAll(key);
            return existed;
        } catch (IOException e) {
            throw new UncheckedIOException("fs tier " + files.pathOf(key) + ": delete failed", e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean pin(ChunkKey key, Duration timeout) {
        checkOpen();
        if (!Files.exists(files.pathOf(key))) {
            return false;
        }
        index.pin(key, timeout.toNanos());
        return true;
    }

    @Override
    public void unpin(ChunkKey key) {
        checkOpen();
        index.unpin(key);
    }

    @Override
    public void onEviction(Consumer<ChunkKey> listener) {
        this.evictionListener = listener;
    }

    @Override
    public void onCorruption(Consumer<ChunkKey> listener) {
        this.corruptionListener = listener;
    }

    /** Deletes every chunk file of the directory, other engines' too; writes in flight and temporary files stay. */
    @Override
    public void clear() {
        checkOpen();
        try (DirectoryStream<Path> shards = Files.newDirectoryStream(files.dir(),
                p -> p.getFileName().toString().matches("[0-9a-f]{2}") && Files.isDirectory(p))) {
            for (Path shard : shards) {
                try (DirectoryStream<Path> in = Files.newDirectoryStream(shard)) {
                    for (Path f : in) {
                        Optional<ChunkKey> key = ChunkFileNames.keyOf(f);
                        if (key.isPresent()) {
                            remove(key.get());
                        }
                    }
                } catch (NoSuchFileException e) {
                    // removed meanwhile
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("fs tier " + files.dir() + ": clear failed", e);
        } finally {
            index.clearWritten();
        }
    }

    /**
     * Runs a sweep now, on the caller's thread (engines run theirs every {@code sweepMillis}).
     *
     * @throws IOException when the directory cannot be listed
     */
    SharedDirectorySweep.Result sweep() throws IOException {
        checkOpen();
        List<ChunkKey> evicted = new ArrayList<>();
        try {
            return sweep.run(evicted);
        } finally {
            evicted.forEach(evictionListener);
        }
    }

    private void sweepQuietly() {
        if (closed) {
            return;
        }
        try {
            sweep();
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                errors.increment();
                LOG.warn("fs tier {}: sweep failed, the directory may exceed its budget until the next one: {}", files.dir(),
                        e.toString());
            }
        }
    }

    @Override
    public TierStats stats() {
        checkOpen();
        return new TierStats(NAME, index.chunks(), index.usedBytes(), url.capacityBytes(), errors.sum() + corruptDropped.get(),
                true, files.lossyChunksRead());
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("fs tier " + files.dir() + ": closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        sweeper.shutdownNow();
        try {
            sweeper.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
