package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.KvCodec;

class ShuffledBlockCodecArgumentsTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 2, 64, KvDtype.BF16); // 1024 bytes a token

    static java.util.List<KvCodec> codecs() {
        return LosslessCodecs.all();
    }

    private static void assertMessageNames(IllegalArgumentException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void rejectsASourceOfPartialTokensNamingItsSize(KvCodec codec) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(codec.maxEncodedBytes(LAYOUT, 4096));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> codec.encode(LAYOUT, arena.allocate(1500), dst));
            assertMessageNames(e, "src: 1500 bytes", "whole tokens of 1024 bytes");
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void rejectsADstSmallerThanMaxEncodedBytesNamingBoth(KvCodec codec) {
        try (Arena arena = Arena.ofConfined()) {
            long bound = codec.maxEncodedBytes(LAYOUT, 4096);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> codec.encode(LAYOUT, arena.allocate(4096), arena.allocate(bound - 1)));
            assertMessageNames(e, "dst: " + (bound - 1) + " bytes", "at least " + bound);
            IllegalArgumentException readOnly = assertThrows(IllegalArgumentException.class,
                    () -> codec.encode(LAYOUT, arena.allocate(4096), arena.allocate(bound).asReadOnly()));
            assertMessageNames(readOnly, "read-only");
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void rejectsADecodeDstOfPartialTokensAndANegativeLength(KvCodec codec) {
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> codec.decode(LAYOUT, arena.allocate(100), arena.allocate(3000)));
            assertMessageNames(e, "dst: 3000 bytes");
            IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> codec.maxEncodedBytes(LAYOUT, -5));
            assertMessageNames(negative, "logicalBytes: -5");
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    void isLosslessAndSupportsEveryDtype(KvCodec codec) {
        assertFalse(codec.lossy());
        for (KvDtype dtype : KvDtype.values()) {
            assertTrue(codec.supports(LosslessCodecs.layout(dtype, false)), codec + " " + dtype);
            assertTrue(codec.supports(LosslessCodecs.layout(dtype, true)), codec + " MLA " + dtype);
        }
    }
}
