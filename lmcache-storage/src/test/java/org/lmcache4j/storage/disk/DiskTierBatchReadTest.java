package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.tier.DiskChunkFormat;

/**
 * {@link DiskTier#readAllInto}: several chunks read at once ({@link ParallelChunkReads}) give exactly what
 * {@code readInto} of each gives, on real files: every byte, each length, a miss for an absent or corrupt
 * chunk (the corrupt one deleted and counted) or one after the first that cannot be read, without disturbing
 * the others, a failure of the first thrown, from several threads at once,
 * and one after the other for targets other threads may not write.
 */
class DiskTierBatchReadTest {

    private static final int CHUNK = 300 * 1024 + 17; // several read blocks and a tail that is not a whole page
    private static final int CHUNKS = 12;

    @TempDir
    Path dir;

    private Arena arena;
    private DiskTier tier;

    @BeforeEach
    void open() {
        arena = Arena.ofShared();
        tier = new DiskTier(dir, 64L * CHUNKS * CHUNK, DiskTierTest.FINGERPRINT);
        for (int i = 0; i < CHUNKS; i++) {
            byte[] p = payload(i, size(i));
            MemorySegment s = arena.allocate(p.length, 4096);
            MemorySegment.copy(MemorySegment.ofArray(p), 0, s, 0, p.length);
            assertTrue(tier.put(key(i), s), "put " + i);
        }
    }

    @AfterEach
    void close() {
        tier.close();
        arena.close();
    }

    private static int size(int i) {
        return CHUNK - 4096 * (i % 3);
    }

    private List<MemorySegment> targets(Arena in, int n) {
        List<MemorySegment> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            MemorySegment t = in.allocate(CHUNK, 4096);
            t.fill((byte) 0x5a);
            out.add(t);
        }
        return out;
    }

    private static void assertChunk(int i, MemorySegment target, long length) {
        assertEquals(size(i), length, "length of chunk " + i);
        assertArrayEquals(payload(i, size(i)), target.asSlice(0, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                "bytes of chunk " + i);
    }

    @Test
    void aBatchReadsEveryChunkByteExactWithMissesWhereAChunkIsAbsentOrCorrupt() throws IOException {
        Path corrupt = tier.pathOf(key(5)).orElseThrow();
        try (FileChannel ch = FileChannel.open(corrupt, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), DiskChunkFormat.PAYLOAD_OFFSET + 200_000);
        }
        List<ChunkKey> keys = new ArrayList<>();
        for (int i = 0; i < CHUNKS; i++) {
            keys.add(i == 8 ? key(1000) : key(i));
        }
        List<MemorySegment> targets = targets(arena, CHUNKS);

        long[] n = tier.readAllInto(keys, targets);

        assertEquals(CHUNKS, n.length);
        for (int i = 0; i < CHUNKS; i++) {
            if (i == 5 || i == 8) {
                assertEquals(-1, n[i], "chunk " + i + " (expected: a miss)");
            } else {
                assertChunk(i, targets.get(i), n[i]);
            }
        }
        assertEquals(1, tier.corruptChunks(), "the corrupt chunk counted");
        assertFalse(Files.exists(corrupt), "the corrupt chunk's file deleted");
        assertFalse(tier.contains(key(5)));
    }

    @Test
    void aChunkAfterTheFirstThatCannotBeReadIsAMissAndTheFirstOneFailsTheBatch() throws IOException {
        Path unreadable = tier.pathOf(key(4)).orElseThrow();
        Files.delete(unreadable);
        Files.createDirectory(unreadable); // opening it for reading fails with an I/O error, not as a missing file
        List<ChunkKey> keys = new ArrayList<>();
        for (int i = 0; i < CHUNKS; i++) {
            keys.add(key(i));
        }
        List<MemorySegment> targets = targets(arena, CHUNKS);

        long[] n = tier.readAllInto(keys, targets);

        for (int i = 0; i < CHUNKS; i++) {
            if (i == 4) {
                assertEquals(-1, n[i], "the unreadable chunk (expected: a miss)");
            } else {
                assertChunk(i, targets.get(i), n[i]);
            }
        }
        assertThrows(java.io.UncheckedIOException.class, () -> tier.readAllInto(List.of(key(4), key(0)), targets(arena, 2)),
                "the first chunk unreadable");
    }

    @Test
    void batchesFromSeveralThreadsAtOnceEachGetTheirChunks() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int thread = 0; thread < 4; thread++) {
                int first = thread;
                runs.add(pool.submit(() -> {
                    for (int round = 0; round < 10; round++) {
                        List<ChunkKey> keys = new ArrayList<>();
                        List<Integer> which = new ArrayList<>();
                        for (int i = (first + round) % 3; i < CHUNKS; i += 2) {
                            keys.add(key(i));
                            which.add(i);
                        }
                        List<MemorySegment> targets = targets(arena, keys.size());
                        long[] n = tier.readAllInto(keys, targets);
                        for (int j = 0; j < n.length; j++) {
                            assertChunk(which.get(j), targets.get(j), n[j]);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> r : runs) {
                r.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void targetsOnlyTheCallerMayWriteAreReadOneAfterTheOther() {
        try (Arena confined = Arena.ofConfined()) {
            List<ChunkKey> keys = List.of(key(0), key(1), key(2));
            List<MemorySegment> targets = targets(confined, 3);
            long[] n = tier.readAllInto(keys, targets);
            for (int i = 0; i < 3; i++) {
                assertChunk(i, targets.get(i), n[i]);
            }
        }
    }

    @Test
    void aTargetListOfAnotherSizeIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tier.readAllInto(List.of(key(0), key(1)), targets(arena, 1)));
        assertEquals("targets: 1 (expected: one per key, 2)", e.getMessage());
    }

    @Test
    void aTargetTooSmallForItsChunkIsRejected() {
        List<MemorySegment> targets = List.of(arena.allocate(CHUNK, 4096), arena.allocate(100, 4096));
        assertThrows(IllegalArgumentException.class, () -> tier.readAllInto(List.of(key(0), key(1)), targets));
    }
}
