package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.assertChunkBytes;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.testing.ReferenceChunkFrames;

/**
 * The disk tier's own promises beyond the StorageTier contract, on real files: the file format, restart
 * within one JVM, the start-up scan (temporary, foreign and over-budget files), and torn or corrupt files
 * being misses that are deleted and counted, never served. Faults of the file system are in
 * {@link DiskTierFaultTest}; restarts and crashes of real processes in {@link DiskRestartIT} and
 * {@link DiskCrashIT}.
 */
class DiskTierTest {

    static final String FINGERPRINT = DiskTierContractTest.FINGERPRINT;
    static final String OTHER_FINGERPRINT = "5a32ff7dbc588d12";
    static final int CHUNK = 64 * 1024;
    static final int HEADER = DiskChunkFormat.PAYLOAD_OFFSET; // the header, padded: the payload starts here

    @TempDir
    Path dir;

    private final List<DiskTier> opened = new ArrayList<>();
    private Arena arena;

    @BeforeEach
    void openArena() {
        arena = Arena.ofShared();
    }

    @AfterEach
    void closeAll() {
        opened.forEach(DiskTier::close);
        arena.close();
    }

    private DiskTier open(Path directory, long capacityBytes, String fingerprint) {
        DiskTier t = new DiskTier(directory, capacityBytes, fingerprint);
        opened.add(t);
        return t;
    }

    private DiskTier open(long capacityBytes) {
        return open(dir, capacityBytes, FINGERPRINT);
    }

    private MemorySegment nativeCopy(byte[] bytes) {
        MemorySegment s = arena.allocate(Math.max(1, bytes.length), 64).asSlice(0, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, 0, bytes.length);
        return s;
    }

    private void put(DiskTier t, int i, int sizeBytes) {
        assertTrue(t.put(key(i), nativeCopy(payload(i, sizeBytes))), "put " + i);
    }

    static void assertServed(DiskTier t, int i, int sizeBytes) {
        Optional<ChunkBuffer> got = t.get(key(i));
        assertTrue(got.isPresent(), "get " + i + " (expected: present)");
        try (ChunkBuffer b = got.get()) {
            assertChunkBytes(payload(i, sizeBytes), b, "chunk " + i);
        }
    }

    static long charged(int payloadBytes) {
        return HEADER + payloadBytes;
    }

    /** Files under {@code root} whose name contains {@code part}. */
    static List<Path> files(Path root, String part) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().contains(part)).sorted().toList();
        }
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) ~b.get(0));
            ch.write(b.rewind(), offset);
        }
    }

    private void assertCorruptMiss(DiskTier t, Path file, long corruptBefore) {
        assertTrue(t.get(key(1)).isEmpty(), "get of a damaged file (expected: a miss)");
        assertFalse(Files.exists(file), "damaged file deleted");
        assertFalse(t.contains(key(1)), "contains after the damaged file was found");
        assertEquals(corruptBefore + 1, t.corruptChunks(), "corruptChunks");
        assertEquals(new TierStats("disk", 0, 0, t.stats().capacityBytes(), corruptBefore + 1, true), t.stats());
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void fileFormatIsAsDocumented() throws IOException {
        DiskTier t = open(charged(CHUNK));
        byte[] content = payload(1, 100);
        put(t, 1, 100);
        String hex = key(1).toString();
        Path file = dir.resolve(hex.substring(0, 2)).resolve(hex + ".kv");
        assertEquals(Optional.of(file), t.pathOf(key(1)));
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(4096 + 100, bytes.length, "file length");
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertArrayEquals("LMC4JKV\0".getBytes(StandardCharsets.US_ASCII), Arrays.copyOfRange(bytes, 0, 8), "magic");
        assertEquals(2, b.getInt(8), "format version");
        assertEquals(84, b.getInt(12), "header length");
        assertArrayEquals(HexFormat.of().parseHex(FINGERPRINT), Arrays.copyOfRange(bytes, 16, 24), "layout fingerprint");
        assertEquals(32, b.getInt(24), "key length");
        assertArrayEquals(key(1).toBytes(), Arrays.copyOfRange(bytes, 28, 60), "key");
        assertEquals(0, b.getInt(60), "parent-key length");
        assertEquals(0, b.getInt(64), "token count");
        assertEquals(100, b.getLong(68), "payload length");
        CRC32C crc = new CRC32C();
        crc.update(content);
        assertEquals((int) crc.getValue(), b.getInt(76), "payload CRC32C");
        crc.reset();
        crc.update(bytes, 0, 80);
        assertEquals((int) crc.getValue(), b.getInt(80), "header CRC32C");
        assertArrayEquals(new byte[4096 - 84], Arrays.copyOfRange(bytes, 84, 4096), "zero padding up to the payload");
        assertArrayEquals(content, Arrays.copyOfRange(bytes, 4096, 4196), "payload, page-aligned");
        assertEquals(charged(100), t.stats().usedBytes(), "usedBytes is the file length");
    }

    @Test
    void filesOfFormatVersion1AreMissesAndDeleted() throws IOException {
        byte[] content = payload(1, 100);
        byte[] fp = HexFormat.of().parseHex(FINGERPRINT);
        // version 1: the payload right after the header, at offset 84
        byte[] header = ReferenceChunkFrames.rawHeader(1, fp, key(1).toBytes(), new byte[0], 0, content.length,
                ReferenceChunkFrames.crc32c(content, 0, content.length));
        byte[] v1 = Arrays.copyOf(header, header.length + content.length);
        System.arraycopy(content, 0, v1, header.length, content.length);
        String hex1 = key(1).toString();
        Path atStart = dir.resolve(hex1.substring(0, 2)).resolve(hex1 + ".kv");
        Files.createDirectories(atStart.getParent());
        Files.write(atStart, v1);
        DiskTier t = open(charged(CHUNK) * 4);
        assertFalse(t.contains(key(1)), "a version 1 file found at start is not indexed");
        assertFalse(Files.exists(atStart), "and deleted");
        assertEquals(1, t.corruptChunks(), "counted as bad");

        put(t, 2, 100); // indexed, then replaced behind the tier's back by a version 1 file
        Path read = t.pathOf(key(2)).orElseThrow();
        byte[] header2 = ReferenceChunkFrames.rawHeader(1, fp, key(2).toBytes(), new byte[0], 0, content.length,
                ReferenceChunkFrames.crc32c(content, 0, content.length));
        byte[] v1b = Arrays.copyOf(header2, header2.length + content.length);
        System.arraycopy(content, 0, v1b, header2.length, content.length);
        Files.write(read, v1b);
        assertTrue(t.get(key(2)).isEmpty(), "get of a version 1 file (expected: a miss)");
        assertFalse(Files.exists(read), "deleted when read");
        assertEquals(2, t.corruptChunks(), "counted as corrupt");
    }

    @Test
    void restartServesTheSameChunksByteExact() {
        long capacity = 16 * charged(CHUNK);
        DiskTier t = open(capacity);
        for (int i = 0; i < 10; i++) {
            put(t, i, CHUNK - 1000 * i);
        }
        put(t, 10, 0);
        TierStats before = t.stats();
        t.close();
        DiskTier again = open(capacity);
        assertEquals(before, again.stats(), "stats after the restart");
        for (int i = 0; i < 10; i++) {
            assertServed(again, i, CHUNK - 1000 * i);
        }
        assertServed(again, 10, 0);
        assertEquals(0, again.corruptChunks(), "corruptChunks");
    }

    @Test
    void restartOrdersChunksByModificationTimeOldestEvictedFirst() throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            put(t, i, CHUNK);
            paths.add(t.pathOf(key(i)).orElseThrow());
        }
        t.close();
        long base = System.currentTimeMillis() - 3_600_000;
        int[] age = {1, 3, 0, 2}; // key 2 oldest, then 0, 3, 1
        for (int i = 0; i < 4; i++) {
            Files.setLastModifiedTime(paths.get(i), FileTime.fromMillis(base + 1000L * age[i]));
        }
        DiskTier again = open(4 * charged(CHUNK));
        put(again, 10, CHUNK);
        assertFalse(again.contains(key(2)), "the oldest file is the least recently used");
        put(again, 11, CHUNK);
        assertFalse(again.contains(key(0)), "the next oldest goes next");
        assertTrue(again.contains(key(3)) && again.contains(key(1)), "the newer ones stay");
        assertFalse(Files.exists(paths.get(2)), "evicted file deleted");
    }

    @Test
    void filesOverTheBudgetAtStartAreDeletedOldestFirst() throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            put(t, i, CHUNK);
            paths.add(t.pathOf(key(i)).orElseThrow());
        }
        t.close();
        long base = System.currentTimeMillis() - 3_600_000;
        for (int i = 0; i < 4; i++) {
            Files.setLastModifiedTime(paths.get(i), FileTime.fromMillis(base + 1000L * i));
        }
        DiskTier smaller = open(2 * charged(CHUNK) + 10);
        assertEquals(2, smaller.stats().chunks(), "chunks within the smaller budget");
        assertEquals(2 * charged(CHUNK), smaller.stats().usedBytes(), "usedBytes");
        assertFalse(Files.exists(paths.get(0)) || Files.exists(paths.get(1)), "the two oldest files deleted");
        assertServed(smaller, 2, CHUNK);
        assertServed(smaller, 3, CHUNK);
        assertEquals(0, smaller.corruptChunks(), "over-budget files are not corrupt");
    }

    @Test
    void leftoverTemporaryFilesAreDeletedAtStart() throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        put(t, 1, CHUNK);
        Path file = t.pathOf(key(1)).orElseThrow();
        t.close();
        byte[] half = Arrays.copyOf(Files.readAllBytes(file), CHUNK / 2);
        Path torn = Files.write(file.resolveSibling(file.getFileName() + ".tmp.5f3a9c"), half);
        Path otherShard = Files.createDirectories(dir.resolve("ff"));
        Path empty = Files.write(otherShard.resolve("ff" + "0".repeat(62) + ".kv.tmp.1"), new byte[0]);
        Path probe = Files.write(dir.resolve("probe.tmp.77"), new byte[0]);
        Path unrelated = Files.writeString(dir.resolve("notes.txt"), "not the tier's");
        DiskTier again = open(4 * charged(CHUNK));
        assertEquals(List.of(), files(dir, ".tmp."), "temporary files after the start");
        assertFalse(Files.exists(torn) || Files.exists(empty) || Files.exists(probe), "each one deleted");
        assertTrue(Files.exists(unrelated), "files of other names are left alone");
        assertServed(again, 1, CHUNK);
        assertEquals(new TierStats("disk", 1, charged(CHUNK), 4 * charged(CHUNK), 0, true), again.stats());
    }

    @Test
    void flippedPayloadByteIsAMissDeletedAndCounted() throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        put(t, 1, CHUNK);
        Path file = t.pathOf(key(1)).orElseThrow();
        flipByte(file, HEADER + CHUNK / 2);
        assertCorruptMiss(t, file, 0);
        assertEquals(1, t.corruptChunks(), "corruptChunks");
        put(t, 1, CHUNK);
        assertServed(t, 1, CHUNK);
    }

    @Test
    void flippedPayloadByteIsFoundOnReadAfterARestart() throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        put(t, 1, CHUNK);
        Path file = t.pathOf(key(1)).orElseThrow();
        t.close();
        flipByte(file, HEADER + CHUNK - 1);
        DiskTier again = open(4 * charged(CHUNK));
        assertTrue(again.contains(key(1)), "indexed: the start reads headers only");
        assertCorruptMiss(again, file, 0);
    }

    @ParameterizedTest(name = "byte {0}")
    @ValueSource(ints = {0, 7, 8, 12, 15, 16, 23, 24, 28, 59, 60, 64, 68, 75, 76, 80, 83})
    void flippedHeaderByteIsAMissDeletedAndCounted(int offset) throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        put(t, 1, CHUNK);
        Path file = t.pathOf(key(1)).orElseThrow();
        flipByte(file, offset);
        assertCorruptMiss(t, file, 0);
    }

    @Test
    void flippedHeaderByteIsNotIndexedAtStart() throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        put(t, 1, CHUNK);
        put(t, 2, CHUNK);
        Path file = t.pathOf(key(1)).orElseThrow();
        t.close();
        flipByte(file, 40);
        DiskTier again = open(4 * charged(CHUNK));
        assertFalse(again.contains(key(1)), "a file with a bad header is not indexed");
        assertFalse(Files.exists(file), "and deleted");
        assertEquals(1, again.corruptChunks(), "corruptChunks");
        assertServed(again, 2, CHUNK);
    }

    @ParameterizedTest(name = "cut to {0} bytes")
    @ValueSource(ints = {0, 10, 50, 84, 84 + 32768, 84 + 65535}) // in the preamble, the header, at its end, in the payload
    void truncatedFileIsAMissDeletedAndCounted(int length) throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        put(t, 1, CHUNK);
        Path file = t.pathOf(key(1)).orElseThrow();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(length);
        }
        assertCorruptMiss(t, file, 0);
    }

    @Test
    void truncatedFileIsNotIndexedAtStart() throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        put(t, 1, CHUNK);
        Path file = t.pathOf(key(1)).orElseThrow();
        t.close();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(HEADER + 1000);
        }
        DiskTier again = open(4 * charged(CHUNK));
        assertFalse(again.contains(key(1)), "a torn file is not indexed");
        assertFalse(Files.exists(file), "and deleted");
        assertEquals(new TierStats("disk", 0, 0, 4 * charged(CHUNK), 1, true), again.stats());
    }

    @Test
    void filesOfAnotherLayoutAreNotIndexedAtStartAndDeleted() throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        put(t, 1, CHUNK);
        put(t, 2, CHUNK);
        t.close();
        assertEquals(2, files(dir, ".kv").size(), "files written");
        DiskTier other = open(dir, 4 * charged(CHUNK), OTHER_FINGERPRINT);
        assertEquals(new TierStats("disk", 0, 0, 4 * charged(CHUNK), 2, true), other.stats());
        assertEquals(2, other.corruptChunks(), "corruptChunks");
        assertEquals(List.of(), files(dir, ".kv"), "files of the other layout deleted");
    }

    @Test
    void fileOfAnotherLayoutIsAMissOnRead() throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        put(t, 1, CHUNK);
        Path file = t.pathOf(key(1)).orElseThrow();
        DiskTier other = open(dir.resolve("other"), 4 * charged(CHUNK), OTHER_FINGERPRINT);
        put(other, 1, CHUNK);
        Files.copy(other.pathOf(key(1)).orElseThrow(), file, StandardCopyOption.REPLACE_EXISTING);
        assertCorruptMiss(t, file, 0);
    }

    @Test
    void fileHoldingAnotherKeyIsAMiss() throws IOException {
        DiskTier t = open(4 * charged(CHUNK));
        put(t, 1, CHUNK);
        put(t, 2, CHUNK);
        Path file = t.pathOf(key(1)).orElseThrow();
        Files.copy(t.pathOf(key(2)).orElseThrow(), file, StandardCopyOption.REPLACE_EXISTING);
        assertTrue(t.get(key(1)).isEmpty(), "a file holding another key is a miss");
        assertFalse(Files.exists(file), "and deleted");
        assertEquals(1, t.corruptChunks(), "corruptChunks");
        assertServed(t, 2, CHUNK);
    }

    @Test
    void removeClearAndEvictionDeleteTheFiles() throws IOException {
        DiskTier t = open(3 * charged(CHUNK));
        for (int i = 0; i < 3; i++) {
            put(t, i, CHUNK);
        }
        Path first = t.pathOf(key(0)).orElseThrow();
        Path second = t.pathOf(key(1)).orElseThrow();
        put(t, 3, CHUNK);
        assertFalse(Files.exists(first), "evicted chunk's file deleted");
        assertTrue(t.remove(key(1)));
        assertFalse(Files.exists(second), "removed chunk's file deleted");
        assertEquals(Optional.empty(), t.pathOf(key(1)));
        t.clear();
        assertEquals(List.of(), files(dir, ".kv"), "chunk files after clear");
        assertEquals(new TierStats("disk", 0, 0, 3 * charged(CHUNK), 0, true), t.stats());
    }

    @Test
    void closeKeepsTheFilesAndLaterCallsThrowIllegalState() throws IOException {
        DiskTier t = open(3 * charged(CHUNK));
        put(t, 1, CHUNK);
        t.close();
        assertEquals(1, files(dir, ".kv").size(), "files after close");
        assertFalse(t.stats().healthy(), "a closed tier is not healthy");
        assertThrows(IllegalStateException.class, () -> t.get(key(1)));
    }
}
