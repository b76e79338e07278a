package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.storage.tier.HeldChunkBuffer;
import org.lmcache4j.storage.tier.TierCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code disk} tier: one self-describing file per chunk under a local directory, with a hard byte
 * budget on the files' total length and least-recently-used eviction that never drops a pinned chunk or
 * one a reader holds. The cache survives restarts: the index is rebuilt from the files at start.
 *
 * <p>Implementation notes. {@link DiskIndex} keeps order, pins, readers and the budget under one lock;
 * file I/O ({@link DiskChunkFiles}) happens outside it, on keys the index has marked busy, so no two
 * operations touch one file at once. A put reserves its bytes before writing (evicting first if needed)
 * and writes to a temporary name that is renamed when complete. A get reads the whole chunk into
 * off-heap memory owned by the returned buffer; the chunk counts as held, and so cannot be evicted,
 * until that buffer is closed, although a removal deletes its file at once (the reader has a copy).
 *
 * <p>Files are written over rather than deleted where that is safe: the file of a chunk removed or
 * cleared while no reader held it becomes a spare ({@link DiskSpares}: a few, inside the budget), and a
 * put writes over a spare, or else over the file of the chunk it evicts, instead of creating a file
 * (see {@link DiskChunkFiles#takeOver}). A new file costs this machine kind nearly twice the engine compute
 * of an overwrite (docs/PERFORMANCE.md). A close deletes the spare files, and a start what a crash left.
 *
 * <p>Failures. A torn, corrupt or foreign file is a miss: it is deleted and counted in
 * {@link #corruptChunks()} and in the stats' errors. An I/O failure of {@link #put} (disk full,
 * read-only file system) or of reading an existing file in {@link #get} is thrown as
 * {@link UncheckedIOException}, after the put has removed its temporary file and returned its
 * reservation; the caller ({@code GuardedTier}) counts those, so the stats' errors do not, but the tier
 * reports itself unhealthy until an I/O operation succeeds again. {@link #contains}, {@link #pin} and
 * {@link #unpin} do no I/O. A failure to delete a file in {@link #remove} or {@link #clear} is logged
 * and counted in the stats' errors, and one in an eviction fails the put as above; the chunk leaves the
 * index either way, its file is left until the next start, and every other file is still tried.
 */
final class DiskTier implements StorageTier {

    static final String NAME = "disk";
    /** A thread that never runs: a target it may access is one the readers of {@link #readAllInto} may. */
    private static final Thread NOT_A_READER = Thread.ofPlatform().unstarted(() -> { });

    private static final Logger LOG = LoggerFactory.getLogger(DiskTier.class);

    private final long capacityBytes;
    private final DiskChunkFiles files;
    private final TierCodec codec;
    private final DiskIndex index;
    private final DiskDirectoryLock lock;
    private final LongAdder corruptChunks = new LongAdder();
    private volatile Consumer<ChunkKey> evictionListener = key -> { };
    private volatile Consumer<ChunkKey> corruptionListener = key -> { };
    private final LongAdder absorbedIoErrors = new LongAdder();
    private volatile boolean failing;

    /**
     * Opens (creating if needed) the tier stored in {@code directory}, indexing the chunks found there.
     *
     * @param directory         the tier's own directory; no other tier may use it at the same time
     * @param capacityBytes     hard limit on the total length of the chunk files
     * @param layoutFingerprint {@code KvLayout.fingerprint()} of the chunks; files of another are deleted
     * @param fsync             force each file and its directory entry to the device before a put returns
     * @param nanoClock         time source for pin expiry ({@code System::nanoTime} outside tests)
     * @param io                the file operations ({@link FileSystemDiskIo#INSTANCE} outside tests)
     * @throws IllegalArgumentException for a bad argument, or a directory that cannot be created, written
     *                                  or read, is a regular file, or is in use by another tier
     */
    DiskTier(Path directory, long capacityBytes, String layoutFingerprint, boolean fsync, LongSupplier nanoClock, DiskIo io) {
        this(directory, capacityBytes, layoutFingerprint, null, fsync, nanoClock, io, TierCodec.raw());
    }

    /**
     * The tier of a connector: as {@link #DiskTier(Path, long, String, boolean, LongSupplier, DiskIo)} for
     * {@code identity}'s layout, after claiming the directory for {@code identity} ({@link DiskIdentityRecord}).
     *
     * @throws IdentityMismatchException when the directory holds KV of another identity (nothing is
     *                                   deleted; the lock is released)
     */
    DiskTier(Path directory, long capacityBytes, CacheIdentity identity) {
        this(directory, capacityBytes, identity, TierCodec.raw());
    }

    /**
     * As {@link #DiskTier(Path, long, CacheIdentity)}, writing chunks through {@code codec} (chunks read are
     * decoded with the codec that wrote them).
     */
    DiskTier(Path directory, long capacityBytes, CacheIdentity identity, TierCodec codec) {
        this(directory, capacityBytes, identity.namespace().layoutFingerprint(), Objects.requireNonNull(identity, "identity"),
                true, System::nanoTime, FileSystemDiskIo.INSTANCE, Objects.requireNonNull(codec, "codec"));
    }

    private DiskTier(Path directory, long capacityBytes, String layoutFingerprint, CacheIdentity identity, boolean fsync,
                     LongSupplier nanoClock, DiskIo io, TierCodec codec) {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(nanoClock, "nanoClock");
        Objects.requireNonNull(io, "io");
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacityBytes: " + capacityBytes + " (expected: > 0)");
        }
        DiskChunkFormat format = new DiskChunkFormat(layoutFingerprint);
        this.capacityBytes = capacityBytes;
        this.codec = codec;
        this.lock = DiskDirectoryLock.acquire(directory, io);
        boolean ok = false;
        try {
            if (identity != null) {
                try {
                    DiskIdentityRecord.claim(directory, identity, io); // before the scan, which deletes foreign files
                } catch (IOException e) {
                    throw new IllegalArgumentException("disk tier directory " + directory + ": cannot read or write its "
                            + DiskIdentityRecord.FILE_NAME + " record: " + e, e);
                }
            }
            this.files = new DiskChunkFiles(directory, format, io, fsync, codec);
            this.index = new DiskIndex(capacityBytes, nanoClock);
            DiskDirectoryScan.Result found;
            try {
                found = DiskDirectoryScan.scan(files, io, capacityBytes);
            } catch (IOException e) {
                throw new IllegalArgumentException("disk tier directory " + directory + ": not readable: " + e, e);
            }
            found.chunks().forEach(c -> index.load(c.key(), c.sizeBytes()));
            corruptChunks.add(found.badFiles());
            absorbedIoErrors.add(found.ioErrors());
            LOG.info("disk tier {}: {} chunks, {} of {} bytes, fsync {}, codec {}; deleted {} temporary, {} bad and {} over-budget"
                    + " files", directory, index.chunks(), index.usedBytes(), capacityBytes, fsync, codec.name(), found.tempFiles(),
                    found.badFiles(), found.evicted());
            ok = true;
        } finally {
            if (!ok) {
                closeLock();
            }
        }
    }

    /** A tier in {@code directory} that forces every write to the device, on the default file system. */
    DiskTier(Path directory, long capacityBytes, String layoutFingerprint) {
        this(directory, capacityBytes, layoutFingerprint, true, System::nanoTime, FileSystemDiskIo.INSTANCE);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** True with a lossy codec configured: only then are lossy chunks read from here (TierCodec). */
    @Override
    public boolean servesLossy() {
        return codec.lossy();
    }

    @Override
    public boolean contains(ChunkKey key) {
        return index.contains(key);
    }

    /**
     * {@inheritDoc}
     *
     * @throws UncheckedIOException when the chunk's file exists but cannot be read
     */
    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        DiskIndex.Entry entry = index.acquire(key);
        if (entry == null) {
            return Optional.empty();
        }
        boolean handedOut = false;
        try {
            HeldChunkBuffer buffer = files.read(key, () -> index.release(entry));
            handedOut = true;
            failing = false;
            return Optional.of(buffer);
        } catch (CorruptChunkException e) {
            if (forget(key, entry, e.getMessage() + "; deleted, served as a miss")) {
                corruptChunks.increment();
                tell(corruptionListener, key);
            }
            return Optional.empty();
        } catch (NoSuchFileException e) {
            // Removed while this read opened it (a plain miss), or deleted behind the tier's back.
            if (forget(key, entry, "disk tier " + files.root() + ": file of chunk " + key + " vanished; dropped from the index")) {
                absorbedIoErrors.increment();
                tell(evictionListener, key);
            }
            return Optional.empty();
        } catch (IOException e) {
            failing = true;
            throw new UncheckedIOException("disk tier " + files.root() + ": get " + key + " failed", e);
        } finally {
            if (!handedOut) {
                index.release(entry);
            }
        }
    }

    /**
     * {@inheritDoc} Reads the file straight into {@code target}; corrupt files are misses, as in
     * {@link #get}.
     *
     * @throws UncheckedIOException when the chunk's file exists but cannot be read
     */
    @Override
    public long readInto(ChunkKey key, MemorySegment target) {
        DiskIndex.Entry entry = index.acquire(key);
        if (entry == null) {
            return -1;
        }
        try {
            long n = files.readInto(key, target);
            failing = false;
            return n;
        } catch (CorruptChunkException e) {
            if (forget(key, entry, e.getMessage() + "; deleted, served as a miss")) {
                corruptChunks.increment();
                tell(corruptionListener, key);
            }
            return -1;
        } catch (NoSuchFileException e) {
            if (forget(key, entry, "disk tier " + files.root() + ": file of chunk " + key + " vanished; dropped from the index")) {
                absorbedIoErrors.increment();
                tell(evictionListener, key);
            }
            return -1;
        } catch (IOException e) {
            failing = true;
            throw new UncheckedIOException("disk tier " + files.root() + ": read " + key + " failed", e);
        } finally {
            index.release(entry);
        }
    }

    /**
     * {@inheritDoc} Up to {@value ParallelChunkReads#READERS} chunks are read at once
     * ({@link ParallelChunkReads}), each as {@link #readInto} reads it, when every target may be written by
     * another thread; else one after the other. A chunk after the first whose file cannot be read is a miss
     * (-1: a walk stops there), so the chunks before it still count; a failure of the first is thrown.
     */
    @Override
    public long[] readAllInto(List<ChunkKey> keys, List<MemorySegment> targets) {
        if (keys.size() != targets.size()) {
            throw new IllegalArgumentException("targets: " + targets.size() + " (expected: one per key, " + keys.size() + ")");
        }
        if (keys.size() < 2 || !targets.stream().allMatch(t -> t.isAccessibleBy(NOT_A_READER))) {
            return StorageTier.super.readAllInto(keys, targets);
        }
        return ParallelChunkReads.readAll(keys.size(), i -> {
            try {
                return readInto(keys.get(i), targets.get(i));
            } catch (IllegalArgumentException e) {
                throw e; // the caller's mistake, not the tier's failure
            } catch (RuntimeException e) {
                if (i == 0) {
                    throw e;
                }
                LOG.warn("disk tier {}: a read ahead failed, served as a miss: {}", files.root(), e.toString());
                return -1;
            }
        });
    }

    /** True: {@link #readAllInto} reads several chunks at once. */
    @Override
    public boolean pipelinesReads() {
        return true;
    }

    /**
     * {@inheritDoc} A chunk is charged its whole file, header included; one whose file exceeds the
     * budget is refused with false. A put of a key another thread is writing waits for that write.
     *
     * @throws IllegalArgumentException when the payload is larger than the tier's largest chunk ({@code TierOptions.chunkBytes}
     *                                  when opened by URL)
     * @throws UncheckedIOException     when writing the file fails (no file and no reservation are left)
     */
    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        codec.requireFits(payload.byteSize(), "disk tier " + files.root() + ", chunk " + key);
        if (index.contains(key)) {
            return true; // stored already: spare the encoding
        }
        TierCodec.Encoded chunk = codec.encode(payload);
        long fileBytes = DiskChunkFormat.fileBytes(chunk.bytes().byteSize());
        for (;;) {
            switch (index.admit(key, fileBytes)) {
                case DiskIndex.Admission.Stored _ -> {
                    return true;
                }
                case DiskIndex.Admission.Refused _ -> {
                    return false;
                }
                case DiskIndex.Admission.Busy busy -> busy.done().join(); // then try again
                case DiskIndex.Admission.Admitted admitted -> {
                    return write(key, chunk, fileBytes, admitted);
                }
            }
        }
    }

    @Override
    public void onEviction(Consumer<ChunkKey> listener) {
        this.evictionListener = listener == null ? key -> { } : listener;
    }

    @Override
    public void onCorruption(Consumer<ChunkKey> listener) {
        this.corruptionListener = listener == null ? key -> { } : listener;
    }

    @Override
    public boolean remove(ChunkKey key) {
        DiskIndex.Victim v = index.remove(key);
        if (v == null) {
            return false;
        }
        removeFiles(List.of(v));
        return true;
    }

    @Override
    public boolean pin(ChunkKey key, Duration timeout) {
        return index.pin(key, timeout);
    }

    @Override
    public void unpin(ChunkKey key) {
        index.unpin(key);
    }

    @Override
    public void clear() {
        removeFiles(index.clear());
    }

    /** Spare files kept to be written over (files of chunks removed or cleared). */
    int spareFiles() {
        return index.spareFiles();
    }

    /**
     * {@inheritDoc} Used bytes include files being written or deleted, not spare files (free room a put
     * takes first, see {@link DiskSpares}); errors count corrupt files and
     * the I/O failures the tier absorbed itself, not those it threw.
     */
    @Override
    public TierStats stats() {
        return new TierStats(NAME, index.chunks(), index.usedBytes(), capacityBytes,
                corruptChunks.sum() + absorbedIoErrors.sum(), !index.isClosed() && !failing, files.lossyChunksRead());
    }

    /** Closes the index, deletes the spare files and unlocks the directory; the chunk files stay for the next start. */
    @Override
    public void close() {
        if (index.close()) {
            try {
                for (DiskSpares.Spare s : index.takeSpares()) {
                    deleteQuietly(files.sparePath(s.id()));
                }
                files.syncDirectoriesEvery(0);
            } catch (IOException e) {
                LOG.warn("disk tier {}: forcing directories at close failed: {}", files.root(), e.toString());
            } finally {
                closeLock();
            }
        }
    }

    /** Torn, corrupt or foreign chunk files found (at start or on reading) and deleted so far. */
    long corruptChunks() {
        return corruptChunks.sum();
    }

    /** The file of {@code key} when the chunk is stored. */
    Optional<Path> pathOf(ChunkKey key) {
        return index.contains(key) ? Optional.of(files.pathOf(key)) : Optional.empty();
    }

    private boolean write(ChunkKey key, TierCodec.Encoded chunk, long fileBytes, DiskIndex.Admission.Admitted admitted) {
        long reserved = admitted.reservedBytes();
        List<DiskIndex.Victim> victims = admitted.victims();
        DiskSpares.Spare spare = admitted.reuse();
        // the file written over: the spare taken, or else the first victim's
        DiskIndex.Victim overwritten = spare == null && !victims.isEmpty() ? victims.getFirst() : null;
        Path old = overwritten != null ? files.pathOf(overwritten.key()) : spare != null ? files.sparePath(spare.id()) : null;
        long oldBytes = overwritten != null ? overwritten.sizeBytes() : spare != null ? spare.sizeBytes() : 0;
        Path takenOver = null;
        boolean oldEnded = old == null;
        boolean committed = false;
        try {
            IOException victimsFailure = null;
            IOException sparesFailure = null;
            try {
                victims.forEach(v -> tellEvicted(v.key())); // they left the index, whether or not their files go
            } finally {
                try {
                    victimsFailure = deleteFiles(overwritten == null ? victims : victims.subList(1, victims.size()), true);
                } finally {
                    sparesFailure = deleteSpares(admitted.dropped());
                }
            }
            IOException failure = firstOf(victimsFailure, sparesFailure);
            if (failure != null) {
                throw failure;
            }
            if (old != null) {
                try {
                    takenOver = files.takeOver(old, key);
                } catch (NoSuchFileException gone) { // deleted behind the tier's back: write a new file
                    oldBytes = 0;
                    deleteQuietly(old);
                }
                endOld(overwritten);
                oldEnded = true;
            }
            long held = Math.max(fileBytes, oldBytes); // the file written over is that long until truncated
            index.release(reserved - held); // the room beyond this file, held until the files in the way were gone
            reserved = held;
            files.write(key, chunk, takenOver);
            committed = true;
            boolean stored = index.commit(key, fileBytes);
            index.release(held - fileBytes);
            failing = false;
            return stored;
        } catch (IOException e) {
            failing = true;
            throw new UncheckedIOException("disk tier " + files.root() + ": put " + key + " (" + fileBytes + " bytes) failed", e);
        } finally {
            try {
                if (!oldEnded) { // this put failed before writing over it: it goes as the victims' files do
                    try {
                        deleteQuietly(old);
                    } finally {
                        endOld(overwritten);
                    }
                }
            } finally {
                if (!committed) {
                    index.abort(key, reserved);
                }
            }
        }
    }

    /** Ends the eviction of the chunk whose file a put took over or deleted (its bytes are the put's). */
    private void endOld(DiskIndex.Victim overwritten) {
        if (overwritten != null) {
            index.deleted(overwritten.key(), 0);
        }
    }

    private void tellEvicted(ChunkKey key) {
        tell(evictionListener, key);
    }

    private void tell(Consumer<ChunkKey> listener, ChunkKey key) {
        try {
            listener.accept(key);
        } catch (RuntimeException e) {
            LOG.warn("disk tier {}: listener failed for {}: {}", files.root(), key, e.toString());
        }
    }

    /**
     * Deletes spare files a put dropped to make room (their bytes are the put's), every one tried; returns the
     * I/O failures, or null, and throws the first unchecked one once all were tried.
     */
    private IOException deleteSpares(List<DiskSpares.Spare> dropped) {
        IOException failure = null;
        RuntimeException unchecked = null;
        for (DiskSpares.Spare s : dropped) {
            try {
                files.delete(files.sparePath(s.id()));
            } catch (IOException e) {
                failure = firstOf(failure, e);
            } catch (RuntimeException e) {
                unchecked = firstOf(unchecked, e);
            }
        }
        if (unchecked != null) {
            if (failure != null) {
                unchecked.addSuppressed(failure);
            }
            throw unchecked;
        }
        return failure;
    }

    /** Deletes {@code file}, logging a failure (a failed put throws its own): it is left until the next start. */
    private void deleteQuietly(Path file) {
        try {
            files.delete(file);
        } catch (IOException | RuntimeException e) {
            LOG.warn("disk tier {}: cannot delete {} (left until the next start): {}", files.root(), file, e.toString());
        }
    }

    /**
     * Ends the removal of chunks: keeps their files as spares where {@link #keepAsSpare} can, deletes the others
     * (every one, whatever another throws: a put of the key waits for its end); then throws what was thrown.
     */
    private void removeFiles(List<DiskIndex.Victim> removed) {
        List<DiskIndex.Victim> toDelete = new ArrayList<>();
        Throwable failure = null;
        for (DiskIndex.Victim v : removed) {
            try {
                if (failure == null && keepAsSpare(v)) {
                    continue;
                }
            } catch (RuntimeException | Error e) {
                failure = e;
            }
            toDelete.add(v);
        }
        try {
            deleteFiles(toDelete, false);
        } finally {
            if (failure instanceof Error e) {
                throw e;
            } else if (failure != null) {
                throw (RuntimeException) failure;
            }
        }
    }

    /**
     * Keeps the file of a removed chunk as a spare when the pool has room and no reader held the chunk;
     * true when it did (and ended the chunk's deletion in the index). On failure the caller deletes it.
     */
    private boolean keepAsSpare(DiskIndex.Victim v) {
        long id = index.spareSlot(v);
        if (id < 0) {
            return false;
        }
        boolean moved = false;
        try {
            files.toSpare(files.pathOf(v.key()), files.sparePath(id));
            moved = true;
        } catch (IOException | RuntimeException e) {
            LOG.debug("disk tier {}: cannot keep the file of chunk {} as a spare, deleting it: {}", files.root(), v.key(), e.toString());
        } finally {
            if (!moved) {
                index.spareSlotUnused(v);
            }
        }
        if (moved && !index.spared(v, id)) { // the tier closed meanwhile: no close will delete it now
            deleteQuietly(files.sparePath(id));
        }
        return moved;
    }

    /**
     * Deletes the files of chunks that left the index and ends each deletion in the index, which returns
     * a removed chunk's bytes to the budget (an evicted chunk's belong to the put that evicted it). Every
     * deletion is tried and ended whatever another one throws, since a put of the key waits for its end;
     * a file that cannot be deleted is left until the next start.
     *
     * @param evicted true for a put's victims, false for chunks removed (or cleared, or corrupt)
     * @return the I/O failures of an eviction (the first, the others suppressed in it), or null; those of
     *         a removal are logged and counted in the stats' errors instead
     * @throws RuntimeException (or Error) the first one a deletion threw, once every deletion has ended
     */
    private IOException deleteFiles(List<DiskIndex.Victim> victims, boolean evicted) {
        IOException ioFailure = null;
        Throwable otherFailure = null;
        for (DiskIndex.Victim v : victims) {
            try {
                try {
                    files.delete(files.pathOf(v.key()));
                } catch (IOException e) {
                    if (evicted) {
                        ioFailure = firstOf(ioFailure, e);
                    } else {
                        absorbedIoErrors.increment();
                        LOG.warn("disk tier {}: cannot delete the file of chunk {} (left until the next start): {}", files.root(),
                                v.key(), e.toString());
                    }
                }
            } catch (RuntimeException | Error e) {
                otherFailure = firstOf(otherFailure, e);
            } finally {
                index.deleted(v.key(), evicted ? 0 : v.sizeBytes());
            }
        }
        if (otherFailure != null) {
            if (ioFailure != null) {
                otherFailure.addSuppressed(ioFailure);
            }
            if (otherFailure instanceof Error e) {
                throw e;
            }
            throw (RuntimeException) otherFailure;
        }
        return ioFailure;
    }

    private static <T extends Throwable> T firstOf(T first, T next) {
        if (first == null || next == null) {
            return first == null ? next : first;
        }
        if (first != next) { // a DiskIo may throw one instance again; suppressing itself would throw
            first.addSuppressed(next);
        }
        return first;
    }

    /** Drops {@code key} from the index and deletes its file, unless another thread did so first. */
    private boolean forget(ChunkKey key, DiskIndex.Entry entry, String why) {
        DiskIndex.Victim v = index.removeIfSame(key, entry);
        if (v == null) {
            return false;
        }
        try {
            LOG.warn(why);
        } finally {
            deleteFiles(List.of(v), false);
        }
        return true;
    }

    private void closeLock() {
        try {
            lock.close();
        } catch (IOException e) {
            LOG.warn("disk tier {}: cannot release the directory lock: {}", files == null ? "" : files.root(), e.toString());
        }
    }
}
