package org.lmcache4j.pool;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.lmcache4j.api.ChunkKey;

/**
 * One pool: a file in shared memory (tmpfs) that every attached JVM maps, laid out as
 *
 * <pre>
 * [0, 4096)        superblock: "LMC4POOL", version 1, slot bytes, slot count, identity name (UTF-8, 200 bytes at most)
 * [4096, data)     one 128-byte header per slot:
 *                    [0, 8)   state word: generation &lt;&lt; 8 | state (FREE 0, WRITING 1, READY 2), written by the
 *                             coordinator only, with release semantics; read with acquire semantics
 *                    [8, 16)  payload length (written by the slot's writer before it commits)
 *                    [16]     key length, then [17, 81) the key
 * [data, end)      slot i's payload at data + i * slotBytes (slotBytes a multiple of 4096)
 * </pre>
 *
 * Created under a temporary name, sized, given its superblock, then renamed into place: a reader never sees a
 * half-made pool. Thread-safe (plain memory; the protocol around it is the coordinator's).
 */
final class PoolFile implements AutoCloseable {

    static final int FREE = 0;
    static final int WRITING = 1;
    static final int READY = 2;
    static final int HEADER_BYTES = 128;
    static final int MAX_KEY_BYTES = 64;
    private static final long SUPERBLOCK_BYTES = 4096;
    private static final long MAGIC = 0x4C4F4F5034434D4CL; // "LMC4POOL" read little-endian
    private static final int VERSION = 1;
    private static final int MAX_NAME_BYTES = 200;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle STATE = ValueLayout.JAVA_LONG.varHandle();

    private final Path path;
    private final Arena arena;
    private final MemorySegment map;
    private final long slotBytes;
    private final int slotCount;
    private final long dataOffset;

    private PoolFile(Path path, Arena arena, MemorySegment map, long slotBytes, int slotCount) {
        this.path = path;
        this.arena = arena;
        this.map = map;
        this.slotBytes = slotBytes;
        this.slotCount = slotCount;
        this.dataOffset = dataOffset(slotCount);
    }

    private static long dataOffset(int slotCount) {
        return Math.ceilDiv(SUPERBLOCK_BYTES + (long) slotCount * HEADER_BYTES, 4096) * 4096;
    }

    /** Bytes of a pool of {@code slotCount} slots of {@code slotBytes}. */
    static long fileBytes(long slotBytes, int slotCount) {
        return dataOffset(slotCount) + slotBytes * slotCount;
    }

    /** {@code chunkBytes} rounded up to whole 4 KiB pages: the slot size of a pool for chunks of at most that. */
    static long slotBytesFor(long chunkBytes) {
        return Math.ceilDiv(chunkBytes, 4096) * 4096;
    }

    /**
     * Creates the pool at {@code path} (deleting any file there first: the coordinator recreates a pool only when no
     * engine is attached to it): a temporary file beside it, sized, superblock
     * written, every page touched (shared memory is charged to whoever faults a page first: the coordinator, now,
     * not an engine on a hit), renamed into place; temporary files a killed coordinator left are deleted first. Every
     * slot is FREE at generation 0. When the file system has no
     * room for it (a container's {@code /dev/shm} is 64 MiB unless sized), nothing is left behind and the
     * exception says how much was needed and how much was free.
     *
     * @throws IOException when the pool does not fit, or the file cannot be written
     */
    static PoolFile create(Path path, String name, long slotBytes, int slotCount) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length > MAX_NAME_BYTES || slotBytes % 4096 != 0 || slotCount < 1) {
            throw new IllegalArgumentException("pool " + name + ": " + slotCount + " slots of " + slotBytes
                    + " bytes (expected: a name of at most " + MAX_NAME_BYTES + " bytes, slots of whole 4 KiB pages, at least one)");
        }
        long bytes = fileBytes(slotBytes, slotCount);
        deleteStaleTemporaries(path); // first: the room they hold counts as free
        Files.deleteIfExists(path); // an unusable pool nobody is attached to (see PoolCoordinator): its room too
        long free = Files.getFileStore(path.getParent()).getUsableSpace();
        if (bytes > free) {
            throw new IOException(noRoom(path, bytes, free));
        }
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        boolean made = false;
        try {
            write(tmp, nameBytes, slotBytes, slotCount, free);
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            made = true;
        } finally {
            if (!made) {
                Files.deleteIfExists(tmp); // never a half-made pool holding shared memory
            }
        }
        return open(path, name);
    }

    /**
     * Deletes the temporary files of pools a killed coordinator was creating (filling a pool of gigabytes takes
     * seconds): only the coordinator, which holds the directory's lock, creates pools, so any other is stale, and
     * each holds the shared memory it had faulted in.
     */
    private static void deleteStaleTemporaries(Path path) throws IOException {
        String prefix = path.getFileName() + ".tmp-";
        try (java.util.stream.Stream<Path> siblings = Files.list(path.getParent())) {
            for (Path p : siblings.filter(f -> f.getFileName().toString().startsWith(prefix)).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static String noRoom(Path path, long bytes, long free) {
        return path + ": " + bytes + " bytes of shared memory needed, " + free + " free in " + path.getParent()
                + " (size it: Docker --shm-size, a Kubernetes emptyDir with medium Memory and a sizeLimit; or ask for a"
                + " smaller pool with size=)";
    }

    private static void write(Path tmp, byte[] nameBytes, long slotBytes, int slotCount, long free) throws IOException {
        long bytes = fileBytes(slotBytes, slotCount);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(bytes);
            ch.write(java.nio.ByteBuffer.allocate(1), bytes - 1); // sized, sparse
            try (Arena a = Arena.ofConfined()) {
                MemorySegment sb = ch.map(FileChannel.MapMode.READ_WRITE, 0, SUPERBLOCK_BYTES, a);
                sb.set(LONG, 0, MAGIC);
                sb.set(INT, 8, VERSION);
                sb.set(LONG, 16, slotBytes);
                sb.set(INT, 24, slotCount);
                sb.set(INT, 28, nameBytes.length);
                MemorySegment.copy(nameBytes, 0, sb, ValueLayout.JAVA_BYTE, 32, nameBytes.length);
                sb.force();
            }
            try (Arena a = Arena.ofConfined()) { // every page faulted in now, by the coordinator, before anyone sees the file:
                MemorySegment all = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, a);
                for (long at = SUPERBLOCK_BYTES; at < all.byteSize(); at += 4096) { // tmpfs charges the first toucher
                    all.set(ValueLayout.JAVA_BYTE, at, (byte) 0);
                }
            } catch (InternalError e) { // SIGBUS: the file system ran out of room while its pages were faulted in
                throw new IOException(noRoom(tmp, bytes, free) + "; it filled up while the pool's pages were faulted in: "
                        + e.getMessage(), e);
            }
        }
    }

    /**
     * Maps the pool at {@code path} made for {@code name}.
     *
     * @throws IOException when it is missing, too short, or not a version-1 pool of that name
     */
    static PoolFile open(Path path, String name) throws IOException {
        Arena arena = Arena.ofShared();
        boolean ok = false;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            if (size < SUPERBLOCK_BYTES) {
                throw new IOException("pool " + path + ": " + size + " bytes (expected: a superblock of " + SUPERBLOCK_BYTES + ")");
            }
            MemorySegment map = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            long slotBytes = map.get(LONG, 16);
            int slotCount = map.get(INT, 24);
            int nameLength = map.get(INT, 28);
            String recorded = nameLength < 0 || nameLength > MAX_NAME_BYTES ? "?"
                    : new String(map.asSlice(32, nameLength).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            if (map.get(LONG, 0) != MAGIC || map.get(INT, 8) != VERSION || !recorded.equals(name) || slotCount < 1
                    || slotBytes <= 0 || slotBytes % 4096 != 0 || size != fileBytes(slotBytes, slotCount)) {
                throw new IOException("pool " + path + ": not a version-" + VERSION + " pool of " + name + " (magic, version, name '"
                        + recorded + "', " + slotCount + " slots of " + slotBytes + " bytes in " + size + " bytes)");
            }
            PoolFile f = new PoolFile(path, arena, map, slotBytes, slotCount);
            ok = true;
            return f;
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    Path path() {
        return path;
    }

    long slotBytes() {
        return slotBytes;
    }

    int slotCount() {
        return slotCount;
    }

    /** The file's size: what it takes of shared memory once every page is touched. */
    long bytes() {
        return map.byteSize();
    }

    private long header(int slot) {
        return SUPERBLOCK_BYTES + (long) slot * HEADER_BYTES;
    }

    /** The state word of {@code slot}, with acquire semantics. */
    long state(int slot) {
        return (long) STATE.getAcquire(map, header(slot));
    }

    /** Sets the state word of {@code slot}, with release semantics (the coordinator only). */
    void setState(int slot, long word) {
        STATE.setRelease(map, header(slot), word);
    }

    static long word(long generation, int state) {
        return generation << 8 | state;
    }

    static long generation(long word) {
        return word >>> 8;
    }

    static int stateOf(long word) {
        return (int) (word & 0xFF);
    }

    /** Writes the payload length and key of {@code slot} (its writer, before it commits). */
    void writeHeader(int slot, ChunkKey key, long length) {
        long h = header(slot);
        byte[] k = key.toBytes();
        map.set(LONG, h + 8, length);
        map.set(ValueLayout.JAVA_BYTE, h + 16, (byte) k.length);
        MemorySegment.copy(k, 0, map, ValueLayout.JAVA_BYTE, h + 17, k.length);
    }

    /** The payload length a slot's header records. */
    long length(int slot) {
        return map.get(LONG, header(slot) + 8);
    }

    /** The key a slot's header records, or null when it is not a valid key. */
    ChunkKey key(int slot) {
        long h = header(slot);
        int n = map.get(ValueLayout.JAVA_BYTE, h + 16) & 0xFF;
        if (n < 16 || n > MAX_KEY_BYTES) {
            return null;
        }
        return ChunkKey.of(map.asSlice(h + 17, n).toArray(ValueLayout.JAVA_BYTE));
    }

    /** Whether the header of {@code slot} records {@code key}. */
    boolean holdsKey(int slot, ChunkKey key) {
        long h = header(slot);
        int n = map.get(ValueLayout.JAVA_BYTE, h + 16) & 0xFF;
        return n == key.length() && MemorySegment.mismatch(map, h + 17, h + 17 + n, MemorySegment.ofArray(key.toBytes()), 0, n) < 0;
    }

    /** Every slot's payload memory: what an engine maps in ahead of its first hit. */
    MemorySegment payloads() {
        return map.asSlice(dataOffset);
    }

    /** The payload memory of {@code slot}. */
    MemorySegment payload(int slot) {
        return map.asSlice(dataOffset + slot * slotBytes, slotBytes);
    }

    @Override
    public void close() {
        arena.close();
    }
}
