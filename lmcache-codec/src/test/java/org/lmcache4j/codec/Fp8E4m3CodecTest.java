package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

class Fp8E4m3CodecTest {

    private final Fp8E4m3Codec codec = new Fp8E4m3Codec();

    @ParameterizedTest
    @MethodSource("org.lmcache4j.codec.Int8CodecTest#randomChunks")
    void everyElementIsWithinItsRelativeOrSubnormalBoundPlusTheOutputRounding(KvLayout layout, int tokens,
            TestChunks.Distribution distribution, long seed) {
        MemorySegment chunk = TestChunks.random(layout, tokens, distribution, seed);

        assertWithinBound(layout, tokens, chunk, roundTrip(layout, tokens, chunk));
    }

    @Test
    void extremeAndFloatSubnormalMagnitudesStayWithinTheBound() {
        for (TestChunks.Extremes e : TestChunks.extremes()) {
            assertWithinBound(e.layout(), e.tokens(), e.mixed(), roundTrip(e.layout(), e.tokens(), e.mixed()));
            assertWithinBound(e.layout(), e.tokens(), e.tiny(), roundTrip(e.layout(), e.tokens(), e.tiny()));
        }
    }

    @Test
    void aScaleOfOneDecodesToTheE4m3RoundingOfEachElement() {
        KvLayout layout = KvLayout.mla(1, 8, KvDtype.FP32);
        float[] row = {448f, 1.0625f, 1.1875f, 0x1p-10f, 0x1.8p-9f, -3.3f, 100f, -0f}; // max 448: the scale is exactly 1
        MemorySegment chunk = TestChunks.filled(layout, 1, (plane, layer, token, c) -> row[c]);

        MemorySegment decoded = roundTrip(layout, 1, chunk);

        float[] expected = {448f, 1f, 1.25f, 0f, 0x1p-8f, -3.25f, 96f, -0f};
        for (int c = 0; c < row.length; c++) {
            assertEquals(expected[c], TestChunks.get(layout, 1, decoded, 0, 0, 0, c), "element " + c + " = " + row[c]);
        }
    }

    @Test
    void eachPlaneAndLayerHasItsOwnScale() {
        KvLayout layout = KvLayout.standard(2, 1, 8, KvDtype.FP32);
        int tokens = 16;
        float[] magnitudes = {1e6f, 1f, 1e-6f, 3f}; // [plane][layer]: K0, K1, V0, V1
        MemorySegment chunk = TestChunks.filled(layout, tokens,
                (plane, layer, token, c) -> magnitudes[plane * 2 + layer] * (1 + (token * 8 + c) % 13) / 13f);

        MemorySegment decoded = roundTrip(layout, tokens, chunk);

        // One scale for the chunk would put the 1e-6 plane far below 2^-9 of 1e6/448: decoded as zeros.
        for (int token = 0; token < tokens; token++) {
            for (int c = 0; c < 8; c++) {
                float x = TestChunks.get(layout, tokens, chunk, 1, 0, token, c);
                float decodedX = TestChunks.get(layout, tokens, decoded, 1, 0, token, c);
                assertTrue(Math.abs(x - decodedX) <= x / 16, x + " decoded as " + decodedX);
            }
        }
    }

    @Test
    void encodedLengthIsHeaderScalesAndOneBytePerElement() {
        KvLayout layout = KvLayout.standard(24, 2, 64, KvDtype.BF16);
        MemorySegment chunk = TestChunks.random(layout, 256, TestChunks.Distribution.GAUSSIAN, 5);
        MemorySegment encoded = TestChunks.allocate(layout, 256);

        long length = codec.encode(layout, chunk, encoded);

        assertEquals(24 + 4L * 2 * 24 + 2L * 24 * 256 * 128, length);
        assertEquals(length, codec.maxEncodedBytes(layout, chunk.byteSize()));
    }

    private MemorySegment roundTrip(KvLayout layout, int tokens, MemorySegment chunk) {
        MemorySegment encoded = Arena.ofAuto().allocate(codec.maxEncodedBytes(layout, chunk.byteSize()));
        long length = codec.encode(layout, chunk, encoded);
        assertEquals(codec.maxEncodedBytes(layout, chunk.byteSize()), length, "a finite chunk is always encoded, to its full length");
        MemorySegment decoded = TestChunks.allocate(layout, tokens);
        decoded.fill((byte) 0x7B);
        codec.decode(layout, encoded.asSlice(0, length), decoded);
        return decoded;
    }

    /**
     * Checks {@code |x - x'| <= max(2^-4 |x|, 2^-10 scale) + output rounding}, the scale computed here from
     * the maximum of the element's plane and layer: the relative bound holds where {@code x / scale} is an
     * E4M3 normal, the absolute one below, and each is the larger one there.
     */
    static void assertWithinBound(KvLayout layout, int tokens, MemorySegment original, MemorySegment decoded) {
        int dim = layout.tokenDim();
        for (int plane = 0; plane < layout.planes(); plane++) {
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                double max = 0;
                for (int token = 0; token < tokens; token++) {
                    for (int c = 0; c < dim; c++) {
                        max = Math.max(max, Math.abs(TestChunks.get(layout, tokens, original, plane, layer, token, c)));
                    }
                }
                double scale = max / 448.0;
                if (scale < 0x1p-121) {
                    scale += 0x1p-140;
                }
                for (int token = 0; token < tokens; token++) {
                    for (int c = 0; c < dim; c++) {
                        float x = TestChunks.get(layout, tokens, original, plane, layer, token, c);
                        float decodedX = TestChunks.get(layout, tokens, decoded, plane, layer, token, c);
                        double outputRounding = layout.dtype() == KvDtype.FP32 ? 0 : TestChunks.halfUlp(layout.dtype(), decodedX);
                        double bound = Math.max(0x1p-4 * Math.abs(x), 0x1p-10 * scale) + outputRounding;
                        if (!(Math.abs((double) x - decodedX) <= bound)) {
                            fail(layout + ", " + tokens + " tokens: plane " + plane + " layer " + layer + " token " + token
                                    + " channel " + c + ": " + x + " decoded as " + decodedX + ", error " + Math.abs((double) x - decodedX)
                                    + " (bound: " + bound + ")");
                        }
                    }
                }
            }
        }
    }
}
