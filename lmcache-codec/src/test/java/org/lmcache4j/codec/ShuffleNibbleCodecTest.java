package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.CorruptEncodingException;
import org.lmcache4j.api.spi.KvCodec;
import org.lmcache4j.api.spi.KvCodecs;

/** What {@code shuffle+nibble} adds to the lossless contract (LosslessCodecs' tests): its blocks, exceptions and kernels. */
class ShuffleNibbleCodecTest {

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final KvLayout BF16 = KvLayout.standard(4, 2, 64, KvDtype.BF16); // 1 KiB a token and plane

    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void isFoundByNameAndIdAndCutsBlocksOf16KiElements() {
        KvCodec codec = KvCodecs.byName("shuffle+nibble");
        assertInstanceOf(ShuffleNibbleCodec.class, codec);
        assertEquals(codec, KvCodecs.byId(5));
        assertEquals("vector", ((ShuffleNibbleCodec) codec).kernel().name(), "the tests' JVM has jdk.incubator.vector");
        MemorySegment chunk = gaussian(BF16, 256);
        MemorySegment encoded = encode(codec, BF16, chunk);
        BlockTable table = BlockTable.read(codec.name(), codec.id(), encoded, 2, chunk.byteSize());
        assertEquals(32 << 10, table.blockBytes());
        assertEquals(chunk.byteSize() / (32 << 10), table.blockCount());
    }

    @Test
    void storesGaussianBf16KvInABitOverThreeQuartersOfItsBytes() {
        MemorySegment chunk = gaussian(BF16, 256);
        MemorySegment encoded = encode(new ShuffleNibbleCodec(), BF16, chunk);
        double ratio = (double) chunk.byteSize() / encoded.byteSize();
        assertTrue(ratio > 1.30 && ratio <= 4.0 / 3, "ratio " + ratio);
    }

    @Test
    void bothKernelsDecodeBlocksWithExceptionsAndShortGroupsExactly() {
        for (KvDtype dtype : KvDtype.values()) {
            KvLayout layout = KvLayout.standard(1, 1, 45, dtype); // 90 elements a token: groups of 32 end short
            int tokens = 300;
            MemorySegment chunk = arena.allocate(layout.chunkBytes(tokens));
            int e = dtype.sizeBytes();
            long n = chunk.byteSize() / e;
            SplittableRandom random = new SplittableRandom(dtype.ordinal());
            for (long i = 0; i < n; i++) {
                for (int b = 0; b < e - 1; b++) {
                    chunk.set(ValueLayout.JAVA_BYTE, i * e + b, (byte) random.nextInt());
                }
                // 16 common high bytes, and one element in 50 of 24 rare ones: the exceptions
                int high = random.nextInt(50) == 0 ? 0x40 + random.nextInt(24) : random.nextInt(16);
                chunk.set(ValueLayout.JAVA_BYTE, i * e + e - 1, (byte) high);
            }
            for (NibbleKernel kernel : new NibbleKernel[] {new VectorNibbleKernel(), NibbleKernel.SCALAR}) {
                ShuffleNibbleCodec codec = new ShuffleNibbleCodec(kernel, 4096);
                MemorySegment encoded = encode(codec, layout, chunk);
                BlockTable table = BlockTable.read(codec.name(), codec.id(), encoded, e, chunk.byteSize());
                int x = encoded.get(U32, table.storedOffset(0) + 16);
                assertTrue(x > 40 && x < 130, dtype + ": " + x + " exceptions in block 0 of 4096 elements");
                for (int i = 0; i < table.blockCount(); i++) {
                    assertTrue(!table.raw(i), dtype + " block " + i + " stored raw");
                }
                MemorySegment decoded = arena.allocate(chunk.byteSize());
                codec.decode(layout, encoded, decoded);
                assertEquals(-1, decoded.mismatch(chunk), dtype + " " + codec);
            }
        }
    }

    @Test
    void theShippedKernelDecodesOnTheScalarKernelUntilTheVectorKernelIsCompiledAndAlikeAfter() throws Exception {
        WarmingNibbleKernel kernel = new WarmingNibbleKernel(new VectorNibbleKernel());
        assertTrue(!kernel.ready(), "not warmed before a first use");
        ShuffleNibbleCodec codec = new ShuffleNibbleCodec(kernel, ShuffleNibbleCodec.BLOCK_ELEMENTS);
        MemorySegment chunk = gaussian(BF16, 64);
        MemorySegment encoded = encode(codec, BF16, chunk);
        MemorySegment decoded = arena.allocate(chunk.byteSize());
        codec.decode(BF16, encoded, decoded); // most likely before the warm-up ends: on the scalar kernel
        assertEquals(-1, decoded.mismatch(chunk));
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!kernel.ready() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(kernel.ready(), "warmed up within a minute");
        decoded.fill((byte) 0);
        codec.decode(BF16, encoded, decoded);
        assertEquals(-1, decoded.mismatch(chunk));
    }

    @Test
    void aVectorKernelThatNeverRunsFastOrFailsInItsWarmUpIsNeverUsed() throws Exception {
        NibbleKernel slow = new NibbleKernel() { // decodes right, at a millisecond a block: never compiled speed
            @Override
            public void decodePairs(MemorySegment stored, MemorySegment block, int groups, long restAt) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                SCALAR.decodePairs(stored, block, groups, restAt);
            }

            @Override
            public String name() {
                return "slow";
            }
        };
        NibbleKernel failing = new NibbleKernel() {
            @Override
            public void decodePairs(MemorySegment stored, MemorySegment block, int groups, long restAt) {
                throw new IllegalStateException("no vector unit");
            }

            @Override
            public String name() {
                return "failing";
            }
        };
        MemorySegment chunk = gaussian(BF16, 64);
        for (NibbleKernel vector : new NibbleKernel[] {slow, failing}) {
            WarmingNibbleKernel kernel = new WarmingNibbleKernel(vector, 200_000_000L);
            ShuffleNibbleCodec codec = new ShuffleNibbleCodec(kernel, ShuffleNibbleCodec.BLOCK_ELEMENTS);
            MemorySegment encoded = encode(codec, BF16, chunk); // starts the warm-up
            assertTrue(kernel.awaitWarmUp(30_000), vector.name() + ": the warm-up ends");
            assertTrue(!kernel.ready(), vector.name() + ": stays on the scalar kernel");
            MemorySegment decoded = arena.allocate(chunk.byteSize());
            codec.decode(BF16, encoded, decoded);
            assertEquals(-1, decoded.mismatch(chunk), vector.name());
        }
    }

    @Test
    void anExceptionOutsideItsBlockOrACountBeyondTheBlockIsCorrupt() {
        MemorySegment chunk = gaussian(BF16, 32);
        chunk.set(ValueLayout.JAVA_BYTE, 1, (byte) 0x7F); // an element's high byte no other has: one exception
        ShuffleNibbleCodec codec = new ShuffleNibbleCodec();
        MemorySegment encoded = encode(codec, BF16, chunk);
        BlockTable table = BlockTable.read(codec.name(), codec.id(), encoded, 2, chunk.byteSize());
        long block = table.storedOffset(0);
        int n = table.logicalBytes(0) / 2;
        int x = encoded.get(U32, block + 16);
        assertTrue(x >= 1, "exceptions: " + x);
        long exceptions = block + NibbleCoding.storedBytes(n, 2, 0);
        assertEquals(0, encoded.get(U32, exceptions), "the first exception is element 0");

        MemorySegment outside = arena.allocate(encoded.byteSize()).copyFrom(encoded);
        outside.set(U32, exceptions, n);
        CorruptEncodingException thrown = assertThrows(CorruptEncodingException.class,
                () -> codec.decode(BF16, outside, arena.allocate(chunk.byteSize())));
        assertTrue(thrown.getMessage().contains("names element " + n), thrown.getMessage());

        MemorySegment beyond = arena.allocate(encoded.byteSize()).copyFrom(encoded);
        beyond.set(U32, block + 16, n + 1);
        assertThrows(CorruptEncodingException.class, () -> codec.decode(BF16, beyond, arena.allocate(chunk.byteSize())));
    }

    private MemorySegment gaussian(KvLayout layout, int tokens) {
        MemorySegment chunk = arena.allocate(layout.chunkBytes(tokens));
        GaussianKvBytes.fill(chunk, layout, 7);
        return chunk;
    }

    private MemorySegment encode(KvCodec codec, KvLayout layout, MemorySegment chunk) {
        MemorySegment encoded = arena.allocate(codec.maxEncodedBytes(layout, chunk.byteSize()));
        long length = codec.encode(layout, chunk, encoded);
        assertTrue(length > 0, codec + " stored the chunk raw");
        return encoded.asSlice(0, length);
    }
}
