package org.lmcache4j.storage.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.lmcache4j.testing.StorageTierContract.key;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.storage.tier.HeldChunkBuffer;

/**
 * Payload reads of the disk tier: buffered and {@code O_DIRECT} reads return the same bytes for every
 * size (whole file-system blocks or not, one read block or several), and the checksum of a read
 * shared with a helper thread finds a damaged byte wherever it is, fails as its failed block does, and
 * leaves nothing reading into the region once it returns.
 */
class DiskPayloadReaderTest {

    private static final String FP = "d4f6e32487754f6c";
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private DiskChunkFiles files(boolean direct, boolean pipelined) {
        return new DiskChunkFiles(dir, new DiskChunkFormat(FP), FileSystemDiskIo.INSTANCE, false,
                new DiskPayloadReader(FileSystemDiskIo.INSTANCE, direct, 4096, pipelined));
    }

    private static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 100, 4095, 4096, 4097, 12_345, MIB - 1, MIB, MIB + 1, MIB + 4096, 3 * MIB + 123})
    void directAndBufferedReadsReturnTheSameBytes(int size) throws Exception {
        ChunkKey key = key(size % 7);
        byte[] payload = random(size, size);
        DiskChunkFiles direct = files(true, true);
        direct.write(key, MemorySegment.ofArray(payload));
        try (Arena arena = Arena.ofShared()) {
            for (DiskChunkFiles f : new DiskChunkFiles[] {files(false, true), files(false, false), direct, files(true, false)}) {
                MemorySegment aligned = arena.allocate(size + 8192L, 4096); // a cpu page: 4 KiB-aligned, larger than the chunk
                aligned.fill((byte) 0x5a);
                assertEquals(size, f.readInto(key, aligned));
                assertArrayEquals(payload, aligned.asSlice(0, size).toArray(ValueLayout.JAVA_BYTE), "aligned target, size " + size);
                assertEquals(0x5a, aligned.get(ValueLayout.JAVA_BYTE, size), "nothing written past the chunk");
                MemorySegment unaligned = arena.allocate(size + 8192L, 4096).asSlice(8, size); // direct falls back to buffered
                assertEquals(size, f.readInto(key, unaligned));
                assertArrayEquals(payload, unaligned.toArray(ValueLayout.JAVA_BYTE), "unaligned target, size " + size);
                try (HeldChunkBuffer b = f.read(key, () -> { })) {
                    assertArrayEquals(payload, b.segment().toArray(ValueLayout.JAVA_BYTE), "read, size " + size);
                }
            }
        }
    }

    @Test
    void directReadsAreUsedWhereTheFileSystemTakesThem() throws Exception {
        DiskPayloadReader reader = new DiskPayloadReader(FileSystemDiskIo.INSTANCE, true, 4096, true);
        DiskChunkFiles f = new DiskChunkFiles(dir, new DiskChunkFormat(FP), FileSystemDiskIo.INSTANCE, false, reader);
        byte[] payload = random(3, 2 * MIB + 5);
        f.write(key(1), MemorySegment.ofArray(payload));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment target = arena.allocate(payload.length, 4096);
            assertEquals(payload.length, f.readInto(key(1), target));
            assertArrayEquals(payload, target.toArray(ValueLayout.JAVA_BYTE));
        }
        assumeTrue(reader.direct(), "the file system of " + dir + " refuses O_DIRECT (tmpfs does): reads stayed buffered");
        assertTrue(reader.direct(), "O_DIRECT stays on after a successful read");
    }

    @Test
    void byDefaultAChunkOffThePageCacheIsReadDirectAndOneInItBuffered() throws Exception {
        double[] cached = {0.0};
        AtomicInteger asked = new AtomicInteger();
        DiskPayloadReader reader = new DiskPayloadReader(FileSystemDiskIo.INSTANCE, DiskPayloadReader.DirectReads.AUTO, 4096, true,
                (file, offset, length) -> {
                    asked.incrementAndGet();
                    return java.util.OptionalDouble.of(cached[0]);
                });
        DiskChunkFiles f = new DiskChunkFiles(dir, new DiskChunkFormat(FP), FileSystemDiskIo.INSTANCE, false, reader);
        byte[] payload = random(5, 5 * MIB + 4097); // five direct blocks and a tail that is no whole file-system block
        f.write(key(2), MemorySegment.ofArray(payload));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment target = arena.allocate(payload.length, 4096);
            assertEquals(payload.length, f.readInto(key(2), target));
            assertArrayEquals(payload, target.toArray(ValueLayout.JAVA_BYTE));
            assumeTrue(reader.direct(), "the file system of " + dir + " refuses O_DIRECT (tmpfs does): reads stayed buffered");
            assertEquals(1, reader.directPayloads(), "nothing of it cached: read with O_DIRECT");

            cached[0] = DiskPayloadReader.CACHED_FRACTION;
            target.fill((byte) 0);
            assertEquals(payload.length, f.readInto(key(2), target));
            assertArrayEquals(payload, target.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(1, reader.directPayloads(), "half of it cached: read through the page cache");
            assertEquals(2, asked.get(), "asked before each read, while none came from the page cache");

            cached[0] = 0.0;
            assertEquals(payload.length, f.readInto(key(2), target));
            assertArrayEquals(payload, target.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(2, asked.get(), "not asked after a read from the page cache");
            assertEquals(1, reader.directPayloads(), "read through the page cache, as the last read was");

            MemorySegment unaligned = arena.allocate(payload.length + 4096L, 4096).asSlice(64, payload.length);
            assertEquals(payload.length, f.readInto(key(2), unaligned));
            assertArrayEquals(payload, unaligned.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(1, reader.directPayloads(), "an unaligned target is read buffered, cached or not");
        }
    }

    @Test
    void whereResidencyIsUnknownReadsAreBufferedAndWhereDirectIsAlwaysAskedItIsNeverProbed() throws Exception {
        DiskPayloadReader unknown = new DiskPayloadReader(FileSystemDiskIo.INSTANCE, DiskPayloadReader.DirectReads.AUTO, 4096, true,
                PageCacheResidency.unknown());
        DiskPayloadReader always = new DiskPayloadReader(FileSystemDiskIo.INSTANCE, DiskPayloadReader.DirectReads.ALWAYS, 4096, true,
                (file, offset, length) -> {
                    throw new AssertionError("probed although every read is direct");
                });
        byte[] payload = random(6, 2 * MIB);
        new DiskChunkFiles(dir, new DiskChunkFormat(FP), FileSystemDiskIo.INSTANCE, false, unknown).write(key(3), MemorySegment.ofArray(payload));
        try (Arena arena = Arena.ofShared()) {
            for (DiskPayloadReader reader : new DiskPayloadReader[] {unknown, always}) {
                DiskChunkFiles f = new DiskChunkFiles(dir, new DiskChunkFormat(FP), FileSystemDiskIo.INSTANCE, false, reader);
                MemorySegment target = arena.allocate(payload.length, 4096);
                assertEquals(payload.length, f.readInto(key(3), target));
                assertArrayEquals(payload, target.toArray(ValueLayout.JAVA_BYTE));
            }
        }
        assertEquals(0, unknown.directPayloads());
        assumeTrue(always.direct(), "the file system of " + dir + " refuses O_DIRECT");
        assertEquals(1, always.directPayloads());
    }

    @Test
    void theKernelTellsAFileReadJustNowFromOneDroppedFromThePageCache() throws Exception {
        PageCacheResidency residency = PageCacheResidency.system();
        Path file = dir.resolve("resident.bin");
        java.nio.file.Files.write(file, random(7, 4 * MIB));
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ)) {
            ch.force(true);
        }
        java.nio.file.Files.readAllBytes(file);
        java.util.OptionalDouble read = residency.cachedFraction(file, 4096, 4 * MIB - 4096);
        assumeTrue(read.isPresent(), "no cachestat here (Linux before 6.5, or no C library)");
        assertEquals(1.0, read.getAsDouble(), 1e-9, "read just now: all cached");
        org.lmcache4j.nativeio.Libc.instance().orElseThrow().dropFromPageCache(file.toString());
        assertTrue(residency.cachedFraction(file, 4096, 4 * MIB - 4096).orElseThrow() < DiskPayloadReader.CACHED_FRACTION,
                "dropped from the page cache: not counted as cached");
        assertTrue(residency.cachedFraction(dir.resolve("gone.bin"), 0, MIB).isEmpty(), "a file that is not there cannot be told");
    }

    @Test
    void theDirectReadSettingIsAutoTrueOrFalseAndAnythingElseIsRefusedByName() {
        assertEquals(DiskPayloadReader.DirectReads.AUTO, DiskPayloadReader.DirectReads.of(null));
        assertEquals(DiskPayloadReader.DirectReads.AUTO, DiskPayloadReader.DirectReads.of(" Auto "));
        assertEquals(DiskPayloadReader.DirectReads.ALWAYS, DiskPayloadReader.DirectReads.of("true"));
        assertEquals(DiskPayloadReader.DirectReads.NEVER, DiskPayloadReader.DirectReads.of("FALSE"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiskPayloadReader.DirectReads.of("yes"));
        assertEquals("-Dlmcache.disk.directReads=yes (expected: auto, true or false)", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aDamagedByteInAnyBlockIsFoundWithTheSharedRead(boolean direct) throws Exception {
        int size = 3 * MIB + 777; // four read blocks, the last partial and not a whole file-system block
        byte[] payload = random(9, size);
        DiskChunkFiles f = files(direct, true);
        long[] damaged = {0, 1, MIB - 1, MIB, MIB + 4096, 2 * MIB + 17, 3 * MIB, size - 1};
        try (Arena arena = Arena.ofShared()) {
            MemorySegment target = arena.allocate(size, 4096);
            for (long at : damaged) {
                ChunkKey key = key((int) (at % 5));
                f.write(key, MemorySegment.ofArray(payload));
                Path file = f.pathOf(key);
                try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                    raf.seek(DiskChunkFormat.PAYLOAD_OFFSET + at);
                    int b = raf.read();
                    raf.seek(DiskChunkFormat.PAYLOAD_OFFSET + at);
                    raf.write(b ^ 0x01);
                }
                CorruptChunkException e = assertThrows(CorruptChunkException.class, () -> f.readInto(key, target),
                        "one bit flipped at payload byte " + at);
                assertTrue(e.getMessage().contains("payload checksum mismatch"), e.getMessage());
                assertThrows(CorruptChunkException.class, () -> f.read(key, () -> { }).close(), "read, byte " + at);
            }
        }
    }

    @Test
    void theSharedReadsChecksumEqualsCrc32cForAnySizeAndBlockSize() throws Exception {
        SplittableRandom r = new SplittableRandom(42);
        try (Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
            for (int trial = 0; trial < 200; trial++) {
                int size = trial % 10 == 0 ? r.nextInt(0, 8) : r.nextInt(1, 3 * MIB);
                byte[] source = random(trial, size);
                MemorySegment region = (trial % 4 == 3 ? confined : shared).allocate(Math.max(1, size)).asSlice(0, size);
                long blockBytes = trial % 3 == 0 ? DiskPayloadReader.READ_BLOCK_BYTES : r.nextInt(1, 600_000);
                CRC32C expected = new CRC32C();
                expected.update(source);
                int crc = SharedBlockRead.readAndChecksum(region, blockBytes, (off, len) ->
                        MemorySegment.copy(MemorySegment.ofArray(source), off, region, off, len), trial % 5 != 4,
                        trial % 2 == 0 ? new SharedBlockRead.CacheGuess(0) : deviceGuess());
                assertEquals((int) expected.getValue(), crc, "size " + size + ", block " + blockBytes + ", trial " + trial);
                assertArrayEquals(source, region.toArray(ValueLayout.JAVA_BYTE), "trial " + trial);
            }
        }
    }

    /** A guess that the next file comes from the device: the owner reads in order, a helper checksums behind it. */
    private static SharedBlockRead.CacheGuess deviceGuess() {
        SharedBlockRead.CacheGuess guess = new SharedBlockRead.CacheGuess(Long.MAX_VALUE);
        guess.firstBlock(1, 1);
        return guess;
    }

    @Test
    void combinedChecksumsEqualTheChecksumOfTheConcatenation() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 300; trial++) {
            byte[] all = random(trial, trial % 3 == 0 ? r.nextInt(0, 64) : r.nextInt(0, 300_000));
            int split = r.nextInt(0, all.length + 1);
            CRC32C a = new CRC32C();
            a.update(all, 0, split);
            CRC32C b = new CRC32C();
            b.update(all, split, all.length - split);
            CRC32C whole = new CRC32C();
            whole.update(all);
            assertEquals((int) whole.getValue(), Crc32cCombine.combine((int) a.getValue(), (int) b.getValue(), all.length - split),
                    "length " + all.length + ", split at " + split);
        }
    }

    @Test
    void aHelperTakesBlocksOfSharedMemoryButNeverOfConfinedMemory() throws Exception {
        Set<Thread> readers = ConcurrentHashMap.newKeySet();
        SharedBlockRead.BlockSource slow = (off, len) -> {
            if (off > 0) { // the first block comes at once, as from the page cache; the others slowly enough for a parked helper to wake up
                readers.add(Thread.currentThread());
                LockSupport.parkNanos(2_000_000);
            }
        };
        long block = DiskPayloadReader.READ_BLOCK_BYTES;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment region = arena.allocate(16 * block);
            SharedBlockRead.readAndChecksum(region, block, slow, true, new SharedBlockRead.CacheGuess(0)); // 0: the first block counts as cached, whatever its time
        }
        assertTrue(readers.stream().anyMatch(t -> t != Thread.currentThread()), "a helper read some of 16 slow blocks: " + readers);
        readers.clear();
        try (Arena arena = Arena.ofConfined()) {
            SharedBlockRead.readAndChecksum(arena.allocate(16 * block), block, slow, true, new SharedBlockRead.CacheGuess(0));
        }
        assertEquals(Set.of(Thread.currentThread()), readers, "memory confined to the caller is read by the caller only");
    }

    @Test
    void afterAFirstBlockAtDeviceSpeedReadsStayOnTheCallersThread() throws Exception {
        Set<Thread> readers = ConcurrentHashMap.newKeySet();
        SharedBlockRead.CacheGuess guess = new SharedBlockRead.CacheGuess();
        long block = DiskPayloadReader.READ_BLOCK_BYTES;
        SharedBlockRead.BlockSource cold = (off, len) -> {
            readers.add(Thread.currentThread());
            LockSupport.parkNanos(200_000); // 256 KiB in 200 us or more: from a device, not the page cache
        };
        try (Arena arena = Arena.ofShared()) {
            SharedBlockRead.readAndChecksum(arena.allocate(16 * block), block, cold, true, guess); // a helper may join from the start
            assertFalse(guess.cached(), "a first block at device speed");
            readers.clear();
            SharedBlockRead.readAndChecksum(arena.allocate(16 * block), block, cold, true, guess);
        }
        assertEquals(Set.of(Thread.currentThread()), readers, "one sequential stream of reads for a file that is not cached");
    }

    @Test
    void aFailedBlockFailsTheReadAndNoBlockIsStillBeingReadWhenItReturns() throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        long block = DiskPayloadReader.READ_BLOCK_BYTES;
        try (Arena arena = Arena.ofShared()) {
            for (int trial = 0; trial < 64; trial++) {
                int failAt = trial % 16;
                SharedBlockRead.CacheGuess guess = trial % 2 == 0 ? new SharedBlockRead.CacheGuess(0) : deviceGuess();
                IOException e = assertThrows(IOException.class, () -> SharedBlockRead.readAndChecksum(arena.allocate(16 * block), block,
                        (off, len) -> {
                            inFlight.incrementAndGet();
                            try {
                                LockSupport.parkNanos(200_000);
                                if (off == failAt * block) {
                                    throw new IOException("block " + failAt + " unreadable");
                                }
                            } finally {
                                inFlight.decrementAndGet();
                            }
                        }, true, guess));
                assertEquals("block " + failAt + " unreadable", e.getMessage(), "the failure itself, from whichever thread read the block");
                assertEquals(0, inFlight.get(), "returned while a helper was still reading into the region, trial " + trial);
            }
        }
        // helpers are free again: a later read is whole and right
        try (Arena arena = Arena.ofShared()) {
            byte[] source = random(5, MIB);
            MemorySegment region = arena.allocate(MIB);
            CRC32C expected = new CRC32C();
            expected.update(source);
            assertEquals((int) expected.getValue(), SharedBlockRead.readAndChecksum(region, 4096,
                    (off, len) -> MemorySegment.copy(MemorySegment.ofArray(source), off, region, off, len), true,
                    new SharedBlockRead.CacheGuess(0)));
        }
    }
}
