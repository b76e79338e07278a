package org.lmcache4j.fs;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.tier.ChunkFileNames;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.storage.tier.TierCodec;

/**
 * Where the shared-filesystem tier's chunk files live and how one is published and read.
 *
 * <p>Layout: {@code <dir>/<first two hex digits of the key>/<key hex>.kv} in {@link DiskChunkFormat}, the
 * disk tier's checksummed format. A write goes to {@code <final name>.tmp.<host>.<pid>.<thread>.<random>}
 * in the same directory (unique per process and thread, so two engines writing one chunk never share a
 * temporary file), is forced to stable storage, closed, then renamed over the final name: on a file system
 * whose rename is atomic, a file under its final name is whole, whoever wrote it and whenever the writer
 * died. Two writers of one key race harmlessly: a key's content is the same whoever computes it, so
 * whichever rename lands last is right. Reads check the header, the key, the file length and the payload's
 * CRC32C; anything else is a {@link CorruptChunkException}, never bytes. Holds no state but the names.
 */
final class SharedChunkFiles {


    private static final byte[] NO_PARENT = new byte[0];
    /** Host and process in every temporary name, for operators reading a directory and for uniqueness. */
    private static final String WRITER = hostName() + "." + ProcessHandle.current().pid();

    private final Path dir;
    private final DiskChunkFormat format;
    private final boolean fsync;
    private final TierCodec codec;

    /** @param codec how chunks this engine writes are encoded; chunks read are decoded with the codec that wrote them */
    SharedChunkFiles(Path dir, DiskChunkFormat format, boolean fsync, TierCodec codec) {
        this.codec = codec;
        this.dir = dir;
        this.format = format;
        this.fsync = fsync;
    }

    Path dir() {
        return dir;
    }

    /** The path of {@code key}'s file, whether it exists or not. */
    Path pathOf(ChunkKey key) {
        return ChunkFileNames.pathOf(dir, key);
    }

    /** A temporary name beside {@code target}, unique to this process and thread. */
    static Path tempFor(Path target) {
        return target.resolveSibling(target.getFileName() + ChunkFileNames.TEMP_MARK + WRITER + "." + Thread.currentThread().threadId() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    }

    /**
     * Publishes {@code payload} as the file of {@code key} (replacing any file of that name) and returns the
     * file's length. On failure, no file of this write is left behind.
     */
    long publish(ChunkKey key, TierCodec.Encoded payload) throws IOException {
        Path target = pathOf(key);
        Files.createDirectories(target.getParent());
        Path temp = tempFor(target);
        boolean renamed = false;
        try {
            write(temp, key, payload);
            Files.move(temp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            renamed = true;
            return DiskChunkFormat.fileBytes(payload.bytes().byteSize());
        } finally {
            if (!renamed) {
                Files.deleteIfExists(temp);
            }
        }
    }

    /** @throws IllegalArgumentException when a payload of {@code bytes} is larger than the tier's largest chunk */
    void requireFits(long bytes, ChunkKey key) {
        codec.requireFits(bytes, "shared fs tier " + dir + ", chunk " + key);
    }

    /** {@code payload} as this engine stores it (its codec; raw when encoding would not shrink it). */
    TierCodec.Encoded encode(MemorySegment payload) {
        return codec.encode(payload);
    }

    /** Writes the whole chunk file to {@code file}: payload first, then the header that carries its checksum. */
    private void write(Path file, ChunkKey key, TierCodec.Encoded chunk) throws IOException {
        MemorySegment payload = chunk.bytes();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            int crc = DiskChunkFormat.crc32c(payload);
            long off = DiskChunkFormat.PAYLOAD_OFFSET;
            for (ByteBuffer slice : DiskChunkFormat.byteBuffers(payload)) {
                writeFully(ch, slice, off);
                off += slice.capacity();
            }
            writeFully(ch, format.encodeFileHeader(key, NO_PARENT, 0, new DiskChunkFormat.Stored(chunk.codecId(), chunk.logicalBytes(),
                    payload.byteSize(), crc)), 0);
            if (fsync) {
                ch.force(true);
            }
        }
    }

    /**
     * Reads and checks the header of {@code key}'s open file: it must be whole and hold {@code key}.
     *
     * @throws CorruptChunkException when it is torn, corrupt, foreign or holds another key
     */
    DiskChunkFormat.Header header(FileChannel ch, Path file, ChunkKey key) throws IOException {
        DiskChunkFormat.Header h = format.readHeader(ch, file);
        if (!h.key().equals(key)) {
            throw new CorruptChunkException(where(file), "key " + h.key() + " (expected: " + key + ")");
        }
        codec.checkLogicalLength(h.codecId(), h.logicalBytes(), where(file)); // before anything is allocated for it
        return h;
    }

    /**
     * Reads the chunk of an open file whose header is {@code h} into {@code target} (exactly its logical
     * length): straight when stored raw, else its stored bytes into this thread's buffer, checked, then
     * decoded with the codec that wrote them.
     *
     * @throws CorruptChunkException when the file ends early, the checksum differs or the bytes do not decode
     */
    void readChunk(FileChannel ch, Path file, DiskChunkFormat.Header h, MemorySegment target) throws IOException {
        if (h.codecId() == 0) {
            readPayload(ch, file, h, target);
            return;
        }
        MemorySegment stored = codec.storedBuffer(h.payloadBytes()).asSlice(0, h.payloadBytes());
        readPayload(ch, file, h, stored);
        codec.decode(h.codecId(), stored, target, where(file));
    }

    /** True when this engine's codec is lossy. */
    boolean lossy() {
        return codec.lossy();
    }

    /** Chunks read whole that a lossy codec had stored. */
    long lossyChunksRead() {
        return codec.lossyChunksRead();
    }

    /**
     * Reads the payload of an open file whose header is {@code h} into {@code target} (exactly its stored
     * length) and checks its checksum.
     *
     * @throws CorruptChunkException when the file ends early or the checksum differs
     */
    private static void readPayload(FileChannel ch, Path file, DiskChunkFormat.Header h, MemorySegment target) throws IOException {
        long off = DiskChunkFormat.PAYLOAD_OFFSET;
        for (ByteBuffer slice : DiskChunkFormat.byteBuffers(target)) {
            DiskChunkFormat.readFully(ch, slice, off, file);
            off += slice.capacity();
        }
        int crc = DiskChunkFormat.crc32c(target);
        if (crc != h.payloadCrc()) {
            throw new CorruptChunkException(where(file), "payload checksum mismatch (stored " + DiskChunkFormat.hex(h.payloadCrc())
                    + ", computed " + DiskChunkFormat.hex(crc) + ")");
        }
    }

    /** Opens {@code key}'s file for reading, or empty when it is not there. */
    Optional<FileChannel> open(ChunkKey key) throws IOException {
        try {
            return Optional.of(FileChannel.open(pathOf(key), StandardOpenOption.READ));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    static String where(Path file) {
        return "fs tier " + file;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            p += ch.write(b, p);
        }
    }

    /** This machine's name for temporary file names: {@code HOSTNAME}, else /etc/hostname, else "host". */
    private static String hostName() {
        String name = System.getenv("HOSTNAME");
        if (name == null || name.isBlank()) {
            try {
                name = Files.readString(Path.of("/etc/hostname"), StandardCharsets.UTF_8).strip();
            } catch (IOException | RuntimeException e) {
                name = "";
            }
        }
        name = name.replaceAll("[^A-Za-z0-9-]", "_");
        return name.isEmpty() ? "host" : name.substring(0, Math.min(name.length(), 32));
    }
}
