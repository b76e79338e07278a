package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.tier.ChunkFileNames;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.storage.tier.HeldChunkBuffer;
import org.lmcache4j.storage.tier.TierCodec;

/**
 * Where the {@code disk} tier's chunk files live and how one is written and read.
 *
 * <p>Layout: {@code <root>/<first two hex digits of the key>/<key hex>.kv}, in {@link DiskChunkFormat}.
 * A write goes to {@code <final name>.tmp.<random hex>} in the same directory, is forced to the device
 * (when {@code fsync}), then renamed over the final name atomically: a file under its final name is never
 * half-written. The payload is checksummed, then written with one call at
 * {@link DiskChunkFormat#PAYLOAD_OFFSET}; the header block, which carries the checksum, is written last at
 * offset 0. Directories are forced so
 * renames survive a power loss, but in batches (at most every {@value #DIR_SYNC_INTERVAL_MILLIS} ms, and
 * at close): one directory fsync per chunk cost about as much as the chunk's own data. A power loss can
 * thus lose the newest renames, which costs hits, never correctness. A write may take over an existing
 * file ({@link #takeOver}: a spare, or an evicted chunk's): it is renamed to the temporary name first and
 * written over there, then truncated to its new length, so it too reaches its final name only whole. Spare
 * files wait in {@code <root>/}{@value #SPARE_DIRECTORY} under numbered names; nothing there is ever read
 * as a chunk, and a start deletes what a crash left there. A read checks the
 * header, then reads the payload (into off-heap memory of its own {@link Arena}, or the caller's) and
 * checks its checksum, the two overlapped ({@link DiskPayloadReader}).
 * Holds no lock: callers make sure no two operations touch one key's file at once.
 */
final class DiskChunkFiles {


    private static final byte[] NO_PARENT = new byte[0];
    private static final long ALIGNMENT_BYTES = DiskChunkFormat.PAYLOAD_OFFSET; // lets O_DIRECT read into it

    private final Path root;
    private final DiskChunkFormat format;
    private final DiskIo io;
    private final boolean fsync;
    private final DiskPayloadReader payloads;
    private final TierCodec codec;
    private final Set<Path> knownShards = ConcurrentHashMap.newKeySet();
    private final Set<Path> dirtyDirectories = ConcurrentHashMap.newKeySet();
    private final AtomicLong lastDirectorySyncNanos = new AtomicLong(System.nanoTime());

    /** The directory of the spare files, under the root. */
    static final String SPARE_DIRECTORY = "spare";

    /** Longest time a rename waits for its directory to be forced. */
    static final long DIR_SYNC_INTERVAL_MILLIS = 100;

    DiskChunkFiles(Path root, DiskChunkFormat format, DiskIo io, boolean fsync) {
        this(root, format, io, fsync, TierCodec.raw());
    }

    /** @param codec decodes the encoded chunks read (encoding is the caller's, see {@link #write(ChunkKey, TierCodec.Encoded)}) */
    DiskChunkFiles(Path root, DiskChunkFormat format, DiskIo io, boolean fsync, TierCodec codec) {
        this(root, format, io, fsync, codec, new DiskPayloadReader(io, DiskPayloadReader.DirectReads.of(System.getProperty(
                DiskPayloadReader.DIRECT_PROPERTY)), DiskChunkFormat.PAYLOAD_OFFSET, true, PageCacheResidency.system()));
    }

    /** @param payloads how payloads are read (buffered or direct, shared with a helper or not) */
    DiskChunkFiles(Path root, DiskChunkFormat format, DiskIo io, boolean fsync, DiskPayloadReader payloads) {
        this(root, format, io, fsync, TierCodec.raw(), payloads);
    }

    private DiskChunkFiles(Path root, DiskChunkFormat format, DiskIo io, boolean fsync, TierCodec codec, DiskPayloadReader payloads) {
        this.codec = codec;
        this.root = root;
        this.format = format;
        this.io = io;
        this.fsync = fsync;
        this.payloads = payloads;
    }

    Path root() {
        return root;
    }

    /** The path of {@code key}'s file, whether it exists or not. */
    Path pathOf(ChunkKey key) {
        return ChunkFileNames.pathOf(root, key);
    }

    /** The directory of the spare files. */
    Path spareDirectory() {
        return root.resolve(SPARE_DIRECTORY);
    }

    /** The path of the spare file numbered {@code id}. */
    Path sparePath(long id) {
        return spareDirectory().resolve(id + ".spare");
    }

    /** Renames {@code chunkFile}, whose chunk left the tier, to the spare name {@code spare}. */
    void toSpare(Path chunkFile, Path spare) throws IOException {
        Path dir = spare.getParent();
        ensureShard(dir);
        try {
            io.moveAtomically(chunkFile, spare);
        } catch (NoSuchFileException e) {
            knownShards.remove(dir); // the spare directory may have been removed behind our back: create it next time
            throw e;
        }
    }

    /**
     * Renames the existing {@code file} (a spare, or an evicted chunk's file) to a temporary name for
     * {@code key}'s file and returns it, for {@link #write(ChunkKey, TierCodec.Encoded, Path)} to write over.
     */
    Path takeOver(Path file, ChunkKey key) throws IOException {
        Path target = pathOf(key);
        ensureShard(target.getParent());
        Path temp = ChunkFileNames.tempFor(target);
        io.moveAtomically(file, temp);
        return temp;
    }

    /** As {@link #write(ChunkKey, TierCodec.Encoded)} for {@code payload} stored raw. */
    long write(ChunkKey key, MemorySegment payload) throws IOException {
        return write(key, new TierCodec.Encoded(0, payload, payload.byteSize()));
    }

    /**
     * Writes {@code chunk} as the file of {@code key}, replacing any file of that name, and returns the
     * file's length. On failure no file of this write is left behind, under either name.
     */
    long write(ChunkKey key, TierCodec.Encoded chunk) throws IOException {
        return write(key, chunk, null);
    }

    /**
     * As {@link #write(ChunkKey, TierCodec.Encoded)}, writing over {@code takenOver} (a temporary name
     * {@link #takeOver} returned for {@code key}) when not null, else into a new file.
     */
    long write(ChunkKey key, TierCodec.Encoded chunk, Path takenOver) throws IOException {
        MemorySegment payload = chunk.bytes();
        Path target = pathOf(key);
        Path shard = target.getParent();
        long payloadOffset = DiskChunkFormat.PAYLOAD_OFFSET;
        long fileBytes = DiskChunkFormat.fileBytes(payload.byteSize());
        Path temp = takenOver != null ? takenOver : ChunkFileNames.tempFor(target);
        Path written = temp;
        try {
            ensureShard(shard);
            try (FileChannel ch = takenOver != null ? io.open(temp, StandardOpenOption.WRITE)
                    : io.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                // One write call for the whole payload: the page cache then holds it in large folios, which
                // later reads copy out faster than a file written in 256 KiB pieces (docs/PERFORMANCE.md).
                // The checksum pass before it costs the writer, a low-priority background thread, a read
                // of the payload from memory.
                int crc = DiskChunkFormat.crc32c(payload);
                long off = payloadOffset;
                for (ByteBuffer slice : DiskChunkFormat.byteBuffers(payload)) {
                    writeFully(ch, slice, off);
                    off += slice.capacity();
                }
                writeFully(ch, format.encodeFileHeader(key, NO_PARENT, 0, new DiskChunkFormat.Stored(chunk.codecId(),
                        chunk.logicalBytes(), payload.byteSize(), crc)), 0);
                if (takenOver != null && ch.size() > fileBytes) {
                    ch.truncate(fileBytes); // what remains of the longer file it was
                }
                if (fsync) {
                    ch.force(true);
                }
            }
            io.moveAtomically(temp, target);
            written = target;
            if (fsync) {
                dirtyDirectories.add(shard);
                syncDirectoriesEvery(DIR_SYNC_INTERVAL_MILLIS);
            }
            return fileBytes;
        } catch (Throwable e) {
            if (e instanceof NoSuchFileException) {
                knownShards.remove(shard); // removed behind our back: create it again next time
            }
            try {
                io.deleteIfExists(written);
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /**
     * Reads the file of {@code key} into memory of a new arena, owned by the returned buffer, whose close
     * runs {@code onClose}.
     *
     * @throws NoSuchFileException   when the file is gone
     * @throws CorruptChunkException when it is torn, corrupt, foreign, or holds another key
     */
    HeldChunkBuffer read(ChunkKey key, Runnable onClose) throws IOException {
        Path file = pathOf(key);
        try (FileChannel ch = io.open(file, StandardOpenOption.READ)) {
            DiskChunkFormat.Header h = headerOf(ch, file, key);
            Arena arena = Arena.ofShared();
            boolean ok = false;
            try {
                MemorySegment bytes = arena.allocate(Math.max(1, h.logicalBytes()), ALIGNMENT_BYTES).asSlice(0, h.logicalBytes());
                readPayload(ch, file, h, bytes);
                ok = true;
                return new HeldChunkBuffer(key, bytes, () -> {
                    try {
                        arena.close();
                    } finally {
                        onClose.run();
                    }
                });
            } finally {
                if (!ok) {
                    arena.close();
                }
            }
        }
    }

    /**
     * Reads the payload of {@code key}'s file into {@code target} from its start, checked like
     * {@link #read}, and returns its length.
     *
     * @throws NoSuchFileException   when the file is gone
     * @throws CorruptChunkException    when it is torn, corrupt, foreign, or holds another key
     * @throws IllegalArgumentException when the chunk is larger than {@code target}
     */
    long readInto(ChunkKey key, MemorySegment target) throws IOException {
        Path file = pathOf(key);
        try (FileChannel ch = io.open(file, StandardOpenOption.READ)) {
            DiskChunkFormat.Header h = headerOf(ch, file, key);
            if (h.logicalBytes() > target.byteSize()) {
                throw new IllegalArgumentException("chunk " + key + ": " + h.logicalBytes() + " bytes (expected: at most "
                        + target.byteSize() + ", the target's size)");
            }
            readPayload(ch, file, h, target.asSlice(0, h.logicalBytes()));
            return h.logicalBytes();
        }
    }

    /**
     * Reads the payload into {@code dst} (its logical length): straight when stored raw, else into this
     * thread's buffer of stored bytes, checked, then decoded into {@code dst}.
     */
    private void readPayload(FileChannel ch, Path file, DiskChunkFormat.Header h, MemorySegment dst) throws IOException {
        if (h.codecId() == 0) {
            payloads.read(ch, file, h, dst);
            return;
        }
        MemorySegment stored = codec.storedBuffer(h.payloadBytes()).asSlice(0, h.payloadBytes());
        String where = CorruptChunkException.diskFile(file);
        TierCodec.Decoding decoding = codec.decoding(h.codecId(), dst, where);
        payloads.read(ch, file, h, stored, decoding.overlapped(stored)); // decodes what has arrived while the rest is read
        decoding.finish(stored);
    }

    /** Chunks read whole that a lossy codec had stored. */
    long lossyChunksRead() {
        return codec.lossyChunksRead();
    }

    /** The checked header of {@code file}, which must hold {@code key}. */
    private DiskChunkFormat.Header headerOf(FileChannel ch, Path file, ChunkKey key) throws IOException {
        DiskChunkFormat.Header h = format.readHeader(ch, file);
        if (!h.key().equals(key)) {
            throw new CorruptChunkException(file, "key " + h.key() + " (expected: " + key + ")");
        }
        codec.checkLogicalLength(h.codecId(), h.logicalBytes(), CorruptChunkException.diskFile(file)); // before allocating it
        return h;
    }

    /**
     * Reads and checks only the header of a chunk file found on disk, which must also sit at the path of
     * the key it names.
     */
    DiskChunkFormat.Header readHeader(Path file) throws IOException {
        try (FileChannel ch = io.open(file, StandardOpenOption.READ)) {
            DiskChunkFormat.Header h = format.readHeader(ch, file);
            if (!file.equals(pathOf(h.key()))) {
                throw new CorruptChunkException(file, "holds key " + h.key() + " (expected: at " + pathOf(h.key()) + ")");
            }
            return h;
        }
    }

    /** Deletes {@code file}; false when it was gone already. */
    boolean delete(Path file) throws IOException {
        return io.deleteIfExists(file);
    }

    private void ensureShard(Path shard) throws IOException {
        if (!knownShards.contains(shard)) {
            io.createDirectories(shard);
            if (fsync) {
                io.syncDirectory(root); // the new directory's entry must outlive a power loss too
            }
            knownShards.add(shard);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            p += ch.write(b, p);
        }
    }

    /** Forces every directory with renames not yet forced, if the last time was {@code intervalMillis} ago. */
    void syncDirectoriesEvery(long intervalMillis) throws IOException {
        long last = lastDirectorySyncNanos.get();
        long now = System.nanoTime();
        if (now - last >= intervalMillis * 1_000_000 && lastDirectorySyncNanos.compareAndSet(last, now)) {
            for (Path dir : dirtyDirectories) {
                dirtyDirectories.remove(dir);
                io.syncDirectory(dir);
            }
        }
    }
}
