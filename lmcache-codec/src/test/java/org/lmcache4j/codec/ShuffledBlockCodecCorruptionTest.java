package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.CorruptEncodingException;
import org.lmcache4j.api.spi.KvCodec;
import org.lmcache4j.codec.LosslessCodecs.Content;

/** Decoding bytes that are not an encoding: always {@link CorruptEncodingException}, never a write outside dst. */
class ShuffledBlockCodecCorruptionTest {

    private static final int GUARD_BYTES = 64;
    private static final byte GUARD = (byte) 0xA5;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** 16 KiB a token: three tokens a little short of a 256 KiB block, so 40 tokens make 3 blocks, the last short. */
    private static final KvLayout LAYOUT = KvLayout.standard(4, 8, 128, KvDtype.BF16);
    private static final int TOKENS = 40;
    private static final KvLayout BYTES = KvLayout.standard(1, 1, 1, KvDtype.FP8_E4M3);
    private static final int BF16_BLOCK_BYTES = 2 * ShuffledBlockCodec.PLANE_BYTES;

    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    static List<KvCodec> codecs() {
        return LosslessCodecs.all();
    }

    /** A chunk of three blocks: Gaussian, random (stored raw), Gaussian and short. */
    private MemorySegment chunk(KvLayout layout, int tokens) {
        MemorySegment chunk = arena.allocate(layout.chunkBytes(tokens));
        GaussianKvBytes.fill(chunk, layout, 11);
        Content.RANDOM.fill(chunk.asSlice(BF16_BLOCK_BYTES, BF16_BLOCK_BYTES), BYTES, 13);
        return chunk;
    }

    private byte[] encode(KvCodec codec, KvLayout layout, MemorySegment chunk) {
        MemorySegment encoded = arena.allocate(codec.maxEncodedBytes(layout, chunk.byteSize()));
        long length = codec.encode(layout, chunk, encoded);
        assertTrue(length > 0, codec + " encoded " + length);
        return encoded.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * Decodes {@code encoded} (from native memory when {@code nativeInput}) into a dst of {@code logicalBytes}
     * between guard bytes, checks the guards, and returns what decode threw, or null.
     */
    private RuntimeException decodeGuarded(KvCodec codec, KvLayout layout, byte[] encoded, long logicalBytes, boolean nativeInput) {
        MemorySegment guarded = arena.allocate(logicalBytes + 2 * GUARD_BYTES);
        guarded.fill(GUARD);
        MemorySegment input = MemorySegment.ofArray(encoded);
        if (nativeInput) {
            input = arena.allocate(Math.max(1, encoded.length)).asSlice(0, encoded.length).copyFrom(input);
        }
        RuntimeException thrown = null;
        try {
            codec.decode(layout, input, guarded.asSlice(GUARD_BYTES, logicalBytes));
        } catch (RuntimeException e) {
            thrown = e;
        }
        for (long i = 0; i < GUARD_BYTES; i++) {
            assertEquals(GUARD, guarded.get(ValueLayout.JAVA_BYTE, i), codec + " wrote before dst at " + (i - GUARD_BYTES));
            assertEquals(GUARD, guarded.get(ValueLayout.JAVA_BYTE, GUARD_BYTES + logicalBytes + i), codec + " wrote past dst at +" + i);
        }
        return thrown;
    }

    private void assertCorrupt(KvCodec codec, byte[] encoded, long logicalBytes, String what) {
        for (boolean nativeInput : new boolean[] {false, true}) {
            RuntimeException thrown = decodeGuarded(codec, LAYOUT, encoded, logicalBytes, nativeInput);
            if (!(thrown instanceof CorruptEncodingException)) {
                fail(codec + ", " + what + (nativeInput ? ", native input" : ", heap input") + ": expected CorruptEncodingException, got "
                        + thrown, thrown);
            }
            assertTrue(thrown.getMessage().startsWith(codec.name() + ": "), thrown.getMessage());
        }
    }

    private byte[] changed(byte[] encoded, Consumer<MemorySegment> change) {
        byte[] copy = encoded.clone();
        change.accept(MemorySegment.ofArray(copy));
        return copy;
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void rejectsTruncatedAndExtendedEncodings(KvCodec codec) {
        MemorySegment chunk = chunk(LAYOUT, TOKENS);
        byte[] encoded = encode(codec, LAYOUT, chunk);
        assertEquals(-1, decodeGuarded(codec, LAYOUT, encoded, chunk.byteSize(), true) == null ? -1 : 0, "the intact encoding decodes");
        int header = 12 + 4 * 3;
        for (int length : new int[] {0, 1, 11, 12, header - 1, header, header + 1, encoded.length / 2, encoded.length - 1}) {
            byte[] truncated = java.util.Arrays.copyOf(encoded, length);
            assertCorrupt(codec, truncated, chunk.byteSize(), "truncated to " + length);
        }
        for (int extra : new int[] {1, 100}) {
            assertCorrupt(codec, java.util.Arrays.copyOf(encoded, encoded.length + extra), chunk.byteSize(), "extended by " + extra);
        }
        assertCorrupt(codec, encoded, chunk.byteSize() - LAYOUT.bytesPerToken(), "decoded into one token fewer");
        assertCorrupt(codec, encoded, chunk.byteSize() + LAYOUT.bytesPerToken(), "decoded into one token more");
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void rejectsChangedHeaderFields(KvCodec codec) {
        MemorySegment chunk = chunk(LAYOUT, TOKENS);
        long bytes = chunk.byteSize();
        byte[] encoded = encode(codec, LAYOUT, chunk);
        MemorySegment table = MemorySegment.ofArray(encoded);
        int entry0 = table.get(U32, 12);
        int entry2 = table.get(U32, 20);
        assertEquals(BF16_BLOCK_BYTES | 0x8000_0000, table.get(U32, 16), "block 1 is stored raw");
        assertTrue(entry0 > 0 && entry2 > 0, "blocks 0 and 2 are compressed");
        List<String> names = new ArrayList<>();
        List<byte[]> cases = new ArrayList<>();
        names.add("format byte");
        cases.add(changed(encoded, s -> s.set(ValueLayout.JAVA_BYTE, 0, (byte) 0xB2)));
        names.add("codec id of the other codec");
        cases.add(changed(encoded, s -> s.set(ValueLayout.JAVA_BYTE, 1, (byte) (3 - codec.id()))));
        names.add("element bytes 4 for bf16");
        cases.add(changed(encoded, s -> s.set(ValueLayout.JAVA_BYTE, 2, (byte) 4)));
        names.add("reserved byte");
        cases.add(changed(encoded, s -> s.set(ValueLayout.JAVA_BYTE, 3, (byte) 1)));
        for (int blockBytes : new int[] {0, 3, 128 << 10, 512 << 10, 0x7FFF_FFFF, -1}) {
            names.add("block bytes " + Integer.toUnsignedString(blockBytes));
            cases.add(changed(encoded, s -> s.set(U32, 4, blockBytes)));
        }
        for (int count : new int[] {0, 2, 4, -1}) {
            names.add("block count " + Integer.toUnsignedString(count));
            cases.add(changed(encoded, s -> s.set(U32, 8, count)));
        }
        for (int entry : new int[] {entry0 + 1, entry0 - 1, 0, entry0 ^ 0x8000_0000, 0x7FFF_FFFF, -1}) {
            names.add("block 0 entry " + Integer.toHexString(entry));
            cases.add(changed(encoded, s -> s.set(U32, 12, entry)));
        }
        names.add("block 2 length + 1");
        cases.add(changed(encoded, s -> s.set(U32, 20, entry2 + 1)));
        names.add("block 1 (raw) flagged compressed");
        cases.add(changed(encoded, s -> s.set(U32, 16, s.get(U32, 16) & 0x7FFF_FFFF)));
        names.add("block 0 shortened and block 2 lengthened (same total)");
        cases.add(changed(encoded, s -> {
            s.set(U32, 12, entry0 - 7);
            s.set(U32, 20, entry2 + 7);
        }));
        for (int i = 0; i < cases.size(); i++) {
            assertCorrupt(codec, cases.get(i), bytes, names.get(i));
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void rejectsRandomBytesAndRandomBlocksBehindAValidTable(KvCodec codec) {
        MemorySegment chunk = chunk(LAYOUT, TOKENS);
        byte[] encoded = encode(codec, LAYOUT, chunk);
        SplittableRandom random = new SplittableRandom(17);
        for (int length : new int[] {1, 12, 24, 1000, encoded.length}) {
            byte[] noise = new byte[length];
            random.nextBytes(noise);
            assertCorrupt(codec, noise, chunk.byteSize(), length + " random bytes");
        }
        byte[] payloadNoise = encoded.clone();
        for (int i = 24; i < payloadNoise.length; i++) {
            payloadNoise[i] = (byte) random.nextInt();
        }
        assertCorrupt(codec, payloadNoise, chunk.byteSize(), "random blocks behind the intact table");
    }

    @Test
    void rejectsAnotherCodecsEncoding() {
        MemorySegment chunk = chunk(LAYOUT, TOKENS);
        byte[] lz4 = encode(new ShuffleLz4Codec(), LAYOUT, chunk);
        assertCorrupt(new ShuffleZstdCodec(), lz4, chunk.byteSize(), "shuffle+lz4 bytes");
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void survivesRandomByteFlipsWithinDstOrWithCorruptEncodingException(KvCodec shipped) {
        // small blocks (4 KiB of bf16): many blocks and table entries per encoding, and fast decodes
        KvCodec codec = switch (shipped) {
            case ShuffleLz4Codec lz4 -> new ShuffleLz4Codec(2048);
            case ShuffleNibbleCodec nibble -> new ShuffleNibbleCodec(nibble.kernel(), 2048);
            default -> new ShuffleZstdCodec(ShuffleZstdCodec.LEVEL, 2048);
        };
        KvLayout layout = KvLayout.standard(2, 2, 64, KvDtype.BF16); // 1 KiB a token
        MemorySegment chunk = arena.allocate(layout.chunkBytes(40));
        GaussianKvBytes.fill(chunk, layout, 23);
        for (int block = 1; block < 10; block += 2) { // blocks 1, 3, ...: repeating specials, which every codec compresses
            Content.SPECIALS.fill(chunk.asSlice(block * 4096L, 4096), layout, 0);
        }
        Content.RANDOM.fill(chunk.asSlice(2 * 4096, 4096), BYTES, 29);
        byte[] encoded = encode(codec, layout, chunk);
        int header = 12 + 4 * 10;
        BlockTable table = BlockTable.read(codec.name(), codec.id(), MemorySegment.ofArray(encoded), 2, chunk.byteSize());
        assertTrue(table.raw(2) && !table.raw(1) && !table.raw(3), "block 2 raw, 1 and 3 compressed");
        SplittableRandom random = new SplittableRandom(31);
        int corrupt = 0;
        int decoded = 0;
        for (int round = 0; round < 3000; round++) {
            byte[] flipped = encoded.clone();
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) {
                int at = random.nextBoolean() ? random.nextInt(header) : random.nextInt(flipped.length);
                flipped[at] ^= (byte) (1 << random.nextInt(8));
            }
            RuntimeException thrown = decodeGuarded(codec, layout, flipped, chunk.byteSize(), random.nextBoolean());
            if (thrown == null) {
                decoded++;
            } else if (thrown instanceof CorruptEncodingException) {
                corrupt++;
            } else {
                fail(codec + " round " + round + ": expected CorruptEncodingException or a normal return, got " + thrown, thrown);
            }
        }
        System.out.printf("%s byte flips: %d decoded, %d corrupt%n", codec, decoded, corrupt);
        assertEquals(3000, decoded + corrupt);
        assertTrue(corrupt > 1000, "header flips must be caught: " + corrupt);
    }
}
