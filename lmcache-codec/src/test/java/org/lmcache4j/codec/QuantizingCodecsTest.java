package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.CorruptEncodingException;
import org.lmcache4j.api.spi.KvCodec;
import org.lmcache4j.api.spi.KvCodecs;

/** What both quantizing codecs promise beyond their error bounds: the KvCodec contract's edges. */
class QuantizingCodecsTest {

    private static final int GUARD_BYTES = 64;
    private static final byte GUARD = (byte) 0xA5;
    private static final byte UNTOUCHED = (byte) 0x3C;
    private static final float[] NON_FINITE = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};

    static Stream<KvCodec> codecs() {
        return Stream.of(new Int8Codec(), new Fp8E4m3Codec());
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void aChunkHoldingANanOrAnInfinityIsNotQuantized(KvCodec codec) {
        for (KvDtype dtype : new KvDtype[] {KvDtype.FP32, KvDtype.FP16, KvDtype.BF16}) {
            for (KvLayout layout : new KvLayout[] {KvLayout.standard(2, 2, 4, dtype), KvLayout.mla(2, 8, dtype)}) {
                int tokens = 5;
                long elements = layout.chunkBytes(tokens) / dtype.sizeBytes();
                for (float bad : NON_FINITE) {
                    for (long at : new long[] {0, elements / 3, elements / 2 + 1, elements - 1}) {
                        MemorySegment chunk = TestChunks.random(layout, tokens, TestChunks.Distribution.GAUSSIAN, at);
                        setElement(layout, chunk, at, bad);
                        MemorySegment dst = Arena.ofAuto().allocate(codec.maxEncodedBytes(layout, chunk.byteSize()));

                        assertEquals(-1, codec.encode(layout, chunk, dst), layout + ": " + bad + " at element " + at);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void anAllZeroChunkDecodesToZeros(KvCodec codec) {
        for (KvDtype dtype : new KvDtype[] {KvDtype.FP32, KvDtype.FP16, KvDtype.BF16}) {
            for (KvLayout layout : new KvLayout[] {KvLayout.standard(2, 2, 4, dtype), KvLayout.mla(2, 8, dtype)}) {
                MemorySegment chunk = TestChunks.allocate(layout, 7);
                MemorySegment encoded = encode(codec, layout, chunk);
                MemorySegment decoded = TestChunks.allocate(layout, 7);
                decoded.fill((byte) 0x77);

                codec.decode(layout, encoded, decoded);

                assertEquals(-1, decoded.mismatch(chunk), layout + ": every byte 0");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void aChunkOfNoTokensIsAHeaderAndScalesOnly(KvCodec codec) {
        KvLayout layout = KvLayout.standard(2, 2, 4, KvDtype.FP16);
        MemorySegment empty = TestChunks.allocate(layout, 0);

        MemorySegment encoded = encode(codec, layout, empty);
        codec.decode(layout, encoded, TestChunks.allocate(layout, 0));

        long scales = codec instanceof Int8Codec ? 2 * 8 : 2 * 2; // K channel scales per layer / one per plane and layer
        assertEquals(QuantizedHeader.BYTES + 4 * scales, encoded.byteSize());
        assertThrows(CorruptEncodingException.class, () -> codec.decode(layout, encoded, TestChunks.allocate(layout, 1)));
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void layoutsWithoutFloatElementsAreRefusedNamingTheDtype(KvCodec codec) {
        assertTrue(codec.lossy());
        for (KvDtype dtype : KvDtype.values()) {
            KvLayout layout = KvLayout.standard(2, 2, 4, dtype);
            boolean isFloat = dtype == KvDtype.FP32 || dtype == KvDtype.FP16 || dtype == KvDtype.BF16;
            assertEquals(isFloat, codec.supports(layout), dtype.toString());
            if (!isFloat) {
                MemorySegment chunk = TestChunks.allocate(layout, 3);
                MemorySegment dst = Arena.ofAuto().allocate(4096);
                assertTrue(assertThrows(IllegalArgumentException.class, () -> codec.encode(layout, chunk, dst))
                        .getMessage().contains(dtype.toString()));
                assertTrue(assertThrows(IllegalArgumentException.class, () -> codec.decode(layout, dst, chunk))
                        .getMessage().contains(dtype.toString()));
                assertThrows(IllegalArgumentException.class, () -> codec.maxEncodedBytes(layout, chunk.byteSize()));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void sizesThatAreNotWholeTokensOrTooSmallAreRefused(KvCodec codec) {
        KvLayout layout = KvLayout.standard(2, 2, 4, KvDtype.BF16);
        MemorySegment chunk = TestChunks.random(layout, 3, TestChunks.Distribution.UNIFORM, 1);
        MemorySegment encoded = encode(codec, layout, chunk);
        long max = codec.maxEncodedBytes(layout, chunk.byteSize());

        assertThrows(IllegalArgumentException.class, () -> codec.maxEncodedBytes(layout, chunk.byteSize() + 1));
        assertThrows(IllegalArgumentException.class,
                () -> codec.encode(layout, chunk.asSlice(0, chunk.byteSize() - 2), Arena.ofAuto().allocate(max)));
        assertThrows(IllegalArgumentException.class, () -> codec.encode(layout, chunk, Arena.ofAuto().allocate(max - 1)));
        for (long wrong : new long[] {chunk.byteSize() - 1, chunk.byteSize() + 2, 1}) {
            MemorySegment guarded = guarded(wrong);
            MemorySegment dst = guarded.asSlice(GUARD_BYTES, wrong);
            assertThrows(IllegalArgumentException.class, () -> codec.decode(layout, encoded, dst), "dst of " + wrong + " bytes");
            assertUntouched(guarded, wrong);
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void corruptEncodingsAreRefusedBeforeAByteOfDstIsWritten(KvCodec codec) {
        KvLayout layout = KvLayout.standard(2, 2, 4, KvDtype.BF16);
        int tokens = 7;
        MemorySegment chunk = TestChunks.random(layout, tokens, TestChunks.Distribution.GAUSSIAN, 3);
        byte[] good = encode(codec, layout, chunk).toArray(ValueLayout.JAVA_BYTE);
        List<byte[]> corrupt = new ArrayList<>();
        for (int length = 0; length < good.length; length++) {
            corrupt.add(Arrays.copyOf(good, length)); // truncated
        }
        corrupt.add(Arrays.copyOf(good, good.length + 1)); // extended
        corrupt.add(Arrays.copyOf(good, good.length + 100));
        for (int at = 0; at < QuantizedHeader.BYTES; at++) {
            for (int bit : new int[] {0x01, 0x80}) {
                byte[] changed = good.clone();
                changed[at] ^= (byte) bit; // magic, version, dtype, mla, reserved, layers, heads, headDim, tokens
                corrupt.add(changed);
            }
        }
        for (float badScale : new float[] {Float.NaN, Float.POSITIVE_INFINITY, -1f}) {
            byte[] changed = good.clone();
            MemorySegment.ofArray(changed).set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                    QuantizedHeader.BYTES, badScale);
            corrupt.add(changed);
        }
        SplittableRandom random = new SplittableRandom(99);
        for (int i = 0; i < 20; i++) {
            byte[] noise = new byte[good.length];
            random.nextBytes(noise);
            corrupt.add(noise);
        }

        for (byte[] bytes : corrupt) {
            assertCorruptLeavesDstAlone(codec, layout, MemorySegment.ofArray(bytes), chunk.byteSize());
        }
        // The right bytes for another layout or length: the header tells them apart.
        MemorySegment encoded = MemorySegment.ofArray(good);
        assertCorruptLeavesDstAlone(codec, KvLayout.standard(4, 1, 4, KvDtype.BF16), encoded, chunk.byteSize()); // same size
        assertCorruptLeavesDstAlone(codec, KvLayout.standard(2, 2, 4, KvDtype.FP16), encoded, chunk.byteSize()); // same size
        assertCorruptLeavesDstAlone(codec, layout, encoded, layout.chunkBytes(tokens - 1));
        assertCorruptLeavesDstAlone(codec, layout, encoded, layout.chunkBytes(tokens + 1));
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void oneInstanceServesManyThreads(KvCodec codec) throws Exception {
        KvLayout layout = KvLayout.standard(3, 2, 32, KvDtype.BF16);
        int chunks = 24;
        List<MemorySegment> inputs = new ArrayList<>();
        List<byte[]> expectedEncoded = new ArrayList<>();
        List<byte[]> expectedDecoded = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            MemorySegment chunk = TestChunks.random(layout, 64 + i, TestChunks.Distribution.GAUSSIAN, 1000 + i);
            MemorySegment encoded = encode(codec, layout, chunk);
            MemorySegment decoded = TestChunks.allocate(layout, 64 + i);
            codec.decode(layout, encoded, decoded);
            inputs.add(chunk);
            expectedEncoded.add(encoded.toArray(ValueLayout.JAVA_BYTE));
            expectedDecoded.add(decoded.toArray(ValueLayout.JAVA_BYTE));
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int first = t;
                done.add(pool.submit(() -> {
                    for (int round = 0; round < 5; round++) {
                        for (int i = first; i < chunks + first; i++) {
                            int c = i % chunks;
                            MemorySegment encoded = encode(codec, layout, inputs.get(c));
                            MemorySegment decoded = TestChunks.allocate(layout, 64 + c);
                            codec.decode(layout, encoded, decoded);
                            assertArrayEquals(expectedEncoded.get(c), encoded.toArray(ValueLayout.JAVA_BYTE), "encoded chunk " + c);
                            assertArrayEquals(expectedDecoded.get(c), decoded.toArray(ValueLayout.JAVA_BYTE), "decoded chunk " + c);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
    }

    @Test
    void kvCodecsFindThemByNameAndId() {
        assertInstanceOf(Int8Codec.class, KvCodecs.byName("int8"));
        assertInstanceOf(Fp8E4m3Codec.class, KvCodecs.byName(" FP8-E4M3 "));
        assertInstanceOf(Int8Codec.class, KvCodecs.byId(3));
        assertInstanceOf(Fp8E4m3Codec.class, KvCodecs.byId(4));
        assertFalse(KvCodecs.byName().isEmpty());
    }

    private static MemorySegment encode(KvCodec codec, KvLayout layout, MemorySegment chunk) {
        MemorySegment dst = Arena.ofAuto().allocate(codec.maxEncodedBytes(layout, chunk.byteSize()));
        long length = codec.encode(layout, chunk, dst);
        assertTrue(length > 0, "encoded length " + length);
        return dst.asSlice(0, length);
    }

    private static void assertCorruptLeavesDstAlone(KvCodec codec, KvLayout layout, MemorySegment encoded, long dstBytes) {
        MemorySegment guarded = guarded(dstBytes);
        MemorySegment dst = guarded.asSlice(GUARD_BYTES, dstBytes);
        assertThrows(CorruptEncodingException.class, () -> codec.decode(layout, encoded, dst),
                () -> layout + ", " + encoded.byteSize() + " encoded bytes, dst " + dstBytes);
        assertUntouched(guarded, dstBytes);
    }

    /** A segment of guard bytes, {@code dstBytes} untouched-marker bytes, guard bytes. */
    private static MemorySegment guarded(long dstBytes) {
        MemorySegment guarded = Arena.ofAuto().allocate(dstBytes + 2L * GUARD_BYTES);
        guarded.fill(GUARD);
        guarded.asSlice(GUARD_BYTES, dstBytes).fill(UNTOUCHED);
        return guarded;
    }

    private static void assertUntouched(MemorySegment guarded, long dstBytes) {
        for (long i = 0; i < guarded.byteSize(); i++) {
            boolean inDst = i >= GUARD_BYTES && i < GUARD_BYTES + dstBytes;
            assertEquals(inDst ? UNTOUCHED : GUARD, guarded.get(ValueLayout.JAVA_BYTE, i), "byte " + i + (inDst ? " of dst" : " of a guard"));
        }
    }

    private static void setElement(KvLayout layout, MemorySegment chunk, long index, float value) {
        switch (layout.dtype()) {
            case FP32 -> chunk.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), index, value);
            case FP16 -> chunk.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), index,
                    Float.floatToFloat16(value));
            case BF16 -> chunk.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), index,
                    (short) (Float.floatToRawIntBits(value) >>> 16));
            default -> throw new IllegalArgumentException(layout.dtype().toString());
        }
    }
}
