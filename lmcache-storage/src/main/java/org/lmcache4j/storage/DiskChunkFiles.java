package org.lmcache4j.storage;

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
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;
import org.lmcache4j.api.ChunkKey;

/**
 * Where the {@code disk} tier's chunk files live and how one is written and read.
 *
 * <p>Layout: {@code <root>/<first two hex digits of the key>/<key hex>.kv}, in {@link DiskChunkFormat}.
 * A write goes to {@code <final name>.tmp.<random hex>} in the same directory, is forced to the device
 * (when {@code fsync}), then renamed over the final name atomically, and the directory is forced so the
 * rename survives a power loss: a file under its final name is never half-written. A read checks the
 * header, then reads the payload into off-heap memory of its own {@link Arena} and checks its checksum.
 * Holds no lock: callers make sure no two operations touch one key's file at once.
 */
final class DiskChunkFiles {

    /** Extension of a chunk file. */
    static final String CHUNK_SUFFIX = ".kv";
    /** Marks a temporary file, finished or not; any such file found at start is deleted. */
    static final String TEMP_MARK = ".tmp.";

    private static final byte[] NO_PARENT = new byte[0];
    private static final long ALIGNMENT_BYTES = 64;

    private final Path root;
    private final DiskChunkFormat format;
    private final DiskIo io;
    private final boolean fsync;
    private final Set<Path> knownShards = ConcurrentHashMap.newKeySet();

    DiskChunkFiles(Path root, DiskChunkFormat format, DiskIo io, boolean fsync) {
        this.root = root;
        this.format = format;
        this.io = io;
        this.fsync = fsync;
    }

    Path root() {
        return root;
    }

    /** The path of {@code key}'s file, whether it exists or not. */
    Path pathOf(ChunkKey key) {
        String hex = key.toString();
        return root.resolve(hex.substring(0, 2)).resolve(hex + CHUNK_SUFFIX);
    }

    /** True for a name this tier gives temporary files. */
    static boolean isTemp(Path file) {
        return file.getFileName().toString().contains(TEMP_MARK);
    }

    /** True for a name this tier gives chunk files. */
    static boolean isChunk(Path file) {
        return file.getFileName().toString().endsWith(CHUNK_SUFFIX);
    }

    /**
     * Writes {@code payload} as the file of {@code key}, replacing any file of that name, and returns the
     * file's length. On failure no file of this write is left behind, under either name.
     */
    long write(ChunkKey key, MemorySegment payload) throws IOException {
        Path target = pathOf(key);
        Path shard = target.getParent();
        ensureShard(shard);
        ByteBuffer[] body = DiskChunkFormat.byteBuffers(payload);
        CRC32C crc = new CRC32C();
        for (ByteBuffer b : body) {
            crc.update(b.duplicate());
        }
        ByteBuffer header = format.encodeHeader(key, NO_PARENT, 0, payload.byteSize(), (int) crc.getValue());
        long fileBytes = header.remaining() + payload.byteSize();
        Path temp = shard.resolve(target.getFileName() + TEMP_MARK + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        Path written = temp;
        try {
            try (FileChannel ch = io.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(ch, header);
                for (ByteBuffer b : body) {
                    writeFully(ch, b);
                }
                if (fsync) {
                    ch.force(true);
                }
            }
            io.moveAtomically(temp, target);
            written = target;
            if (fsync) {
                io.syncDirectory(shard);
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
            DiskChunkFormat.Header h = format.readHeader(ch, file);
            if (!h.key().equals(key)) {
                throw new CorruptChunkException(file, "key " + h.key() + " (expected: " + key + ")");
            }
            Arena arena = Arena.ofShared();
            boolean ok = false;
            try {
                MemorySegment bytes = arena.allocate(Math.max(1, h.payloadBytes()), ALIGNMENT_BYTES).asSlice(0, h.payloadBytes());
                format.readPayload(ch, h, bytes, file);
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
            DiskChunkFormat.Header h = format.readHeader(ch, file);
            if (!h.key().equals(key)) {
                throw new CorruptChunkException(file, "key " + h.key() + " (expected: " + key + ")");
            }
            if (h.payloadBytes() > target.byteSize()) {
                throw new IllegalArgumentException("chunk " + key + ": " + h.payloadBytes() + " bytes (expected: at most "
                        + target.byteSize() + ", the target's size)");
            }
            format.readPayload(ch, h, target.asSlice(0, h.payloadBytes()), file);
            return h.payloadBytes();
        }
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

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
