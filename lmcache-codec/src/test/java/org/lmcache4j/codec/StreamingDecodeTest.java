package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.CorruptEncodingException;
import org.lmcache4j.api.spi.KvCodec;

/** Decoding as stored bytes arrive: the same chunk as a whole decode, and nothing decoded from bytes not yet there. */
class StreamingDecodeTest {

    private static final KvLayout LAYOUT = KvLayout.standard(24, 2, 64, KvDtype.BF16); // 3 MiB per 256 tokens

    @Test
    void decodingInArbitraryStepsGivesTheChunkAndWaitsForEachBlocksBytes() {
        for (KvCodec codec : LosslessCodecs.all()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment chunk = arena.allocate(LAYOUT.chunkBytes(256));
                GaussianKvBytes.fill(chunk, LAYOUT, 7);
                MemorySegment buffer = arena.allocate(codec.maxEncodedBytes(LAYOUT, chunk.byteSize()));
                long n = codec.encode(LAYOUT, chunk, buffer);
                assertTrue(n > 0, codec.name() + " shrinks Gaussian bf16");
                MemorySegment encoded = buffer.asSlice(0, n);
                SplittableRandom r = new SplittableRandom(3);
                for (int round = 0; round < 4; round++) {
                    MemorySegment dst = arena.allocate(chunk.byteSize());
                    dst.fill((byte) 0x5a);
                    KvCodec.StreamingDecode decode = codec.streamingDecode(LAYOUT, dst);
                    decode.advance(encoded, 100); // not even the block table: nothing happens
                    assertEquals(-1, dst.asSlice(0, 8).mismatch(MemorySegment.ofArray(new byte[] {0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
                            0x5a, 0x5a})), codec.name() + ": nothing decoded from a partial header");
                    for (long available = 0; available < n; available = Math.min(n, available + r.nextLong(1, n / 3))) {
                        decode.advance(encoded, available);
                    }
                    decode.finish(encoded);
                    assertEquals(-1, dst.mismatch(chunk), codec.name() + " round " + round);
                }
            }
        }
    }

    @Test
    void aDamagedEncodingFailsOrDecodesTheStreamExactlyAsTheWholeDecode() {
        for (KvCodec codec : LosslessCodecs.all()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment chunk = arena.allocate(LAYOUT.chunkBytes(256));
                GaussianKvBytes.fill(chunk, LAYOUT, 8);
                MemorySegment buffer = arena.allocate(codec.maxEncodedBytes(LAYOUT, chunk.byteSize()));
                MemorySegment encoded = buffer.asSlice(0, codec.encode(LAYOUT, chunk, buffer));
                encoded.asSlice(encoded.byteSize() / 2, 64).fill((byte) 0xff); // the middle of some block
                MemorySegment whole = arena.allocate(chunk.byteSize());
                CorruptEncodingException wholeFailure = null;
                try {
                    codec.decode(LAYOUT, encoded, whole);
                } catch (CorruptEncodingException e) {
                    wholeFailure = e;
                }
                MemorySegment dst = arena.allocate(chunk.byteSize());
                KvCodec.StreamingDecode decode = codec.streamingDecode(LAYOUT, dst);
                if (wholeFailure != null) {
                    assertThrows(CorruptEncodingException.class, () -> {
                        decode.advance(encoded, encoded.byteSize() / 3);
                        decode.advance(encoded, encoded.byteSize() * 2 / 3);
                        decode.finish(encoded);
                    }, codec.name());
                } else { // a block stored raw, or bytes that still decompress: the stored checksum is what catches it
                    decode.advance(encoded, encoded.byteSize() / 3);
                    decode.finish(encoded);
                    assertEquals(-1, dst.mismatch(whole), codec.name() + ": the same bytes as the whole decode");
                }
            }
        }
    }

    @Test
    void anEncodingShorterThanItsHeaderIsCorruptOnceItIsAllIn() {
        for (KvCodec codec : LosslessCodecs.all()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment dst = arena.allocate(LAYOUT.chunkBytes(1));
                for (int length = 0; length < 12; length++) {
                    MemorySegment encoded = arena.allocate(Math.max(1, length)).asSlice(0, length);
                    KvCodec.StreamingDecode decode = codec.streamingDecode(LAYOUT, dst);
                    if (length > 0) {
                        decode.advance(encoded, length / 2); // not all in: nothing to say yet
                    }
                    assertThrows(CorruptEncodingException.class, () -> decode.advance(encoded, encoded.byteSize()),
                            codec.name() + ", " + encoded.byteSize() + " bytes");
                }
            }
        }
    }
}
