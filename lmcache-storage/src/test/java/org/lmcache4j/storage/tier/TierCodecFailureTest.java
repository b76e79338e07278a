package org.lmcache4j.storage.tier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.KvCodec;
import org.lmcache4j.testing.UnlinkedTestCodec;

/**
 * What a tier's codec does with chunks it cannot handle: a codec whose native library cannot load stores raw and
 * reads as unavailable (a miss that keeps the chunk for engines that can decode it), never an Error; a stored
 * chunk claiming more than the tier's largest chunk is damaged, raw or encoded; a put of a larger payload is refused.
 */
class TierCodecFailureTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 2, 8, KvDtype.FP16);
    private static final long CHUNK = LAYOUT.chunkBytes(4);

    @Test
    void aCodecWhoseLibraryCannotLoadStoresRawAndReadsAsUnavailable() throws Exception {
        TierCodec codec = TierCodec.of(UnlinkedTestCodec.NAME, LAYOUT).withMaxLogicalBytes(CHUNK);
        byte[] bytes = new byte[(int) CHUNK];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 7);
        }
        TierCodec.Encoded stored = codec.encode(MemorySegment.ofArray(bytes));
        assertEquals(KvCodec.RAW_ID, stored.codecId(), "stored raw");
        assertArrayEquals(bytes, stored.bytes().toArray(ValueLayout.JAVA_BYTE));

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment target = arena.allocate(CHUNK);
            MemorySegment encoded = arena.allocate(CHUNK / 2);
            CodecUnavailableException decode = assertThrows(CodecUnavailableException.class,
                    () -> codec.decode(UnlinkedTestCodec.ID, encoded, target, "chunk file x"));
            assertTrue(decode.getMessage().contains("codec " + UnlinkedTestCodec.NAME + " cannot run in this process")
                    && decode.getMessage().contains("chunk file x"), decode.getMessage());
            TierCodec.Decoding decoding = codec.decoding(UnlinkedTestCodec.ID, target, "chunk file y");
            assertThrows(CodecUnavailableException.class, () -> decoding.finish(encoded));
        }
    }

    @Test
    void aStoredChunkLargerThanTheTiersLargestIsDamagedRawOrEncoded() throws Exception {
        TierCodec codec = TierCodec.of("raw", LAYOUT).withMaxLogicalBytes(CHUNK);
        codec.checkLogicalLength(KvCodec.RAW_ID, CHUNK, "f");
        CorruptChunkException raw = assertThrows(CorruptChunkException.class,
                () -> codec.checkLogicalLength(KvCodec.RAW_ID, CHUNK + 1, "chunk file z"));
        assertTrue(raw.getMessage().contains("raw payload of " + (CHUNK + 1) + " bytes") && raw.getMessage().contains("chunk file z"),
                raw.getMessage());
        assertThrows(CorruptChunkException.class, () -> codec.checkLogicalLength(UnlinkedTestCodec.ID, CHUNK + 1, "f"));
    }

    @Test
    void aPutOfMoreThanTheTiersLargestChunkIsRefusedNamingTheLimit() {
        TierCodec codec = TierCodec.of("raw", LAYOUT).withMaxLogicalBytes(CHUNK);
        codec.requireFits(CHUNK, "disk tier d");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.requireFits(CHUNK + 1, "disk tier d"));
        assertTrue(e.getMessage().contains("disk tier d") && e.getMessage().contains(String.valueOf(CHUNK)), e.getMessage());
    }
}
