package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.KvCodec;
import org.lmcache4j.codec.LosslessCodecs.Content;

class ShuffledBlockCodecRoundTripTest {

    static List<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (KvCodec codec : LosslessCodecs.all()) {
            for (KvDtype dtype : KvDtype.values()) {
                for (boolean mla : new boolean[] {false, true}) {
                    for (int tokens : new int[] {1, 7, 256}) {
                        for (Content content : Content.values()) {
                            cases.add(Arguments.of(codec, LosslessCodecs.layout(dtype, mla), tokens, content));
                        }
                    }
                }
            }
        }
        return cases;
    }

    @ParameterizedTest(name = "{0} {1} {2} tokens {3}")
    @MethodSource("cases")
    void decodesExactlyTheBytesItEncodedFromNativeAndHeapMemory(KvCodec codec, KvLayout layout, int tokens, Content content) {
        try (Arena arena = Arena.ofConfined()) {
            long bytes = layout.chunkBytes(tokens);
            MemorySegment chunk = arena.allocate(bytes);
            content.fill(chunk, layout, tokens * 31L + layout.dtype().ordinal());
            long bound = codec.maxEncodedBytes(layout, bytes);

            long nativeLength = roundTrip(codec, layout, chunk, arena.allocate(bound), arena.allocate(bytes), content);
            MemorySegment heapChunk = MemorySegment.ofArray(chunk.toArray(ValueLayout.JAVA_BYTE));
            long heapLength = roundTrip(codec, layout, heapChunk, MemorySegment.ofArray(new byte[(int) bound]),
                    MemorySegment.ofArray(new byte[(int) bytes]), content);
            assertEquals(nativeLength, heapLength, "encoded length from heap and from native memory");
        }
    }

    private static long roundTrip(KvCodec codec, KvLayout layout, MemorySegment chunk, MemorySegment encoded, MemorySegment decoded,
            Content content) {
        long length = codec.encode(layout, chunk, encoded);
        if (length == -1) {
            if (content.compressible()) {
                fail(codec + " did not shrink " + content + " (" + chunk.byteSize() + " bytes)");
            }
            return length;
        }
        assertTrue(length > 0 && length < chunk.byteSize(), "encoded length " + length + " of " + chunk.byteSize());
        decoded.fill((byte) 0x5A);
        codec.decode(layout, encoded.asSlice(0, length).asReadOnly(), decoded); // as a tier's read-only mapping of a file
        long mismatch = decoded.mismatch(chunk);
        assertEquals(-1, mismatch, "first differing byte after a round trip through " + codec);
        return length;
    }

    @Test
    void shrinksSyntheticBf16Kv() {
        KvLayout layout = KvLayout.standard(24, 2, 64, KvDtype.BF16);
        try (Arena arena = Arena.ofConfined()) {
            long bytes = layout.chunkBytes(256);
            MemorySegment chunk = arena.allocate(bytes);
            GaussianKvBytes.fill(chunk, layout, 42);
            for (KvCodec codec : LosslessCodecs.all()) {
                MemorySegment encoded = arena.allocate(codec.maxEncodedBytes(layout, bytes));
                long length = codec.encode(layout, chunk, encoded);
                assertNotEquals(-1, length, codec + " stored bf16 KV raw");
                double ratio = (double) bytes / length;
                System.out.printf("%s: synthetic bf16 KV of %d bytes -> %d bytes, ratio %.3f%n", codec, bytes, length, ratio);
                assertTrue(ratio > (codec instanceof ShuffleZstdCodec ? 1.1 : 1.05), codec + " ratio " + ratio);
                MemorySegment decoded = arena.allocate(bytes);
                codec.decode(layout, encoded.asSlice(0, length), decoded);
                assertEquals(-1, decoded.mismatch(chunk));
            }
        }
    }

    @Test
    void storesABlockThatDoesNotShrinkRawAndTheOthersCompressed() {
        KvLayout layout = KvLayout.standard(4, 8, 128, KvDtype.BF16); // 16 KiB a token: 16 tokens a block
        int tokens = 48; // three blocks
        try (Arena arena = Arena.ofConfined()) {
            long bytes = layout.chunkBytes(tokens);
            MemorySegment chunk = arena.allocate(bytes);
            GaussianKvBytes.fill(chunk, layout, 3);
            MemorySegment second = chunk.asSlice((2 * ShuffledBlockCodec.PLANE_BYTES), (2 * ShuffledBlockCodec.PLANE_BYTES));
            Content.RANDOM.fill(second, KvLayout.standard(1, 1, 1, KvDtype.FP8_E4M3), 5);
            for (KvCodec codec : LosslessCodecs.all()) {
                MemorySegment encoded = arena.allocate(codec.maxEncodedBytes(layout, bytes));
                long length = codec.encode(layout, chunk, encoded);
                assertNotEquals(-1, length, codec.name());
                BlockTable table = BlockTable.read(codec.name(), codec.id(), encoded.asSlice(0, length), 2, bytes);
                assertEquals(3, table.blockCount());
                assertEquals(List.of(false, true, false), List.of(table.raw(0), table.raw(1), table.raw(2)), codec + " raw blocks");
                assertEquals((2 * ShuffledBlockCodec.PLANE_BYTES), table.storedBytes(1));
                MemorySegment decoded = arena.allocate(bytes);
                codec.decode(layout, encoded.asSlice(0, length), decoded);
                assertEquals(-1, decoded.mismatch(chunk));
            }
        }
    }

    @Test
    void cutsChunksIntoBlocksOf128KiElementsWhateverTheDtype() {
        try (Arena arena = Arena.ofConfined()) {
            for (KvDtype dtype : KvDtype.values()) {
                KvLayout layout = LosslessCodecs.layout(dtype, false);
                long bytes = layout.chunkBytes(256);
                MemorySegment chunk = arena.allocate(bytes);
                Content.ZEROS.fill(chunk, layout, 0);
                for (KvCodec codec : LosslessCodecs.all()) {
                    MemorySegment encoded = arena.allocate(codec.maxEncodedBytes(layout, bytes));
                    long length = codec.encode(layout, chunk, encoded);
                    BlockTable table = BlockTable.read(codec.name(), codec.id(), encoded.asSlice(0, length), dtype.sizeBytes(), bytes);
                    assertEquals((128 << 10) * dtype.sizeBytes(), table.blockBytes(), codec + " " + dtype);
                    assertEquals(Math.ceilDiv(bytes, table.blockBytes()), table.blockCount(), codec + " " + dtype);
                }
            }
        }
    }

    @Test
    void encodesIntoExactlyMaxEncodedBytesAndReturnsMinusOneForIncompressibleChunks() {
        KvLayout layout = LosslessCodecs.layout(KvDtype.FP16, false);
        try (Arena arena = Arena.ofConfined()) {
            long bytes = layout.chunkBytes(256);
            MemorySegment chunk = arena.allocate(bytes);
            Content.RANDOM.fill(chunk, layout, 9);
            for (KvCodec codec : LosslessCodecs.all()) {
                long bound = codec.maxEncodedBytes(layout, bytes);
                assertEquals(bytes + 12 + 4 * Math.ceilDiv(bytes, (2 * ShuffledBlockCodec.PLANE_BYTES)), bound, codec.name());
                MemorySegment guarded = arena.allocate(bound + 16);
                guarded.fill((byte) 0x77);
                assertEquals(-1, codec.encode(layout, chunk, guarded.asSlice(0, bound)), codec.name());
                for (long i = bound; i < bound + 16; i++) {
                    assertEquals((byte) 0x77, guarded.get(ValueLayout.JAVA_BYTE, i), codec + " wrote past dst at " + i);
                }
                assertEquals(-1, codec.encode(layout, arena.allocate(0), arena.allocate(bound)), codec + " of an empty chunk");
            }
        }
    }
}
