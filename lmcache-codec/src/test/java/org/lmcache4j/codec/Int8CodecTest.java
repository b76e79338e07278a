package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

class Int8CodecTest {

    private final Int8Codec codec = new Int8Codec();

    static Stream<Arguments> randomChunks() {
        List<Arguments> cases = new ArrayList<>();
        for (KvDtype dtype : new KvDtype[] {KvDtype.FP32, KvDtype.FP16, KvDtype.BF16}) {
            for (KvLayout layout : new KvLayout[] {KvLayout.standard(3, 2, 16, dtype), KvLayout.mla(3, 48, dtype)}) {
                for (int tokens : new int[] {1, 7, 256}) {
                    for (TestChunks.Distribution distribution : TestChunks.Distribution.values()) {
                        for (long seed = 1; seed <= 3; seed++) {
                            cases.add(Arguments.of(layout, tokens, distribution, seed));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("randomChunks")
    void everyElementIsWithinHalfItsScaleOfTheOriginalPlusTheOutputRounding(KvLayout layout, int tokens,
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
    void oneLargeKChannelLeavesTheOtherChannelsTheirOwnPrecision() {
        KvLayout layout = KvLayout.standard(1, 2, 8, KvDtype.FP32);
        int tokens = 64;
        SplittableRandom random = new SplittableRandom(7);
        MemorySegment chunk = TestChunks.filled(layout, tokens,
                (plane, layer, token, c) -> (float) random.nextDouble(-1, 1) * (plane == 0 && c == 3 ? 1000 : 1));

        MemorySegment decoded = roundTrip(layout, tokens, chunk);

        double otherChannels = 0;
        for (int token = 0; token < tokens; token++) {
            for (int c = 0; c < layout.tokenDim(); c++) {
                if (c != 3) {
                    otherChannels = Math.max(otherChannels, error(layout, tokens, chunk, decoded, 0, 0, token, c));
                }
            }
        }
        // A scale per channel: at most 1/254. One shared by a token's row would be about 1000/127, errors near 4.
        assertTrue(otherChannels <= 1.0 / 254, "largest K error outside the large channel: " + otherChannels);
    }

    @Test
    void oneLargeVTokenLeavesTheOtherTokensTheirOwnPrecision() {
        for (KvLayout layout : new KvLayout[] {KvLayout.standard(1, 2, 8, KvDtype.FP32), KvLayout.mla(1, 16, KvDtype.FP32)}) {
            int plane = layout.planes() - 1;
            int tokens = 64;
            SplittableRandom random = new SplittableRandom(11);
            MemorySegment chunk = TestChunks.filled(layout, tokens,
                    (p, layer, token, c) -> (float) random.nextDouble(-1, 1) * (p == plane && token == 5 ? 1000 : 1));

            MemorySegment decoded = roundTrip(layout, tokens, chunk);

            double otherTokens = 0;
            for (int token = 0; token < tokens; token++) {
                for (int c = 0; c < layout.tokenDim(); c++) {
                    if (token != 5) {
                        otherTokens = Math.max(otherTokens, error(layout, tokens, chunk, decoded, plane, 0, token, c));
                    }
                }
            }
            // A scale per token: at most 1/254. One per channel over the tokens would be about 1000/127.
            assertTrue(otherTokens <= 1.0 / 254, layout + ": largest error outside the large token: " + otherTokens);
        }
    }

    @Test
    void quotientsAtHalfIntegersRoundToEven() {
        KvLayout layout = KvLayout.mla(1, 8, KvDtype.FP32);
        float[] row = {127f, 2.5f, 3.5f, -2.5f, -0.5f, 0.5f, 1.5f, -126.5f}; // max 127: the scale is exactly 1
        MemorySegment chunk = TestChunks.filled(layout, 1, (plane, layer, token, c) -> row[c]);

        MemorySegment decoded = roundTrip(layout, 1, chunk);

        float[] expected = {127f, 2f, 4f, -2f, 0f, 0f, 2f, -126f};
        for (int c = 0; c < row.length; c++) {
            assertEquals(expected[c], TestChunks.get(layout, 1, decoded, 0, 0, 0, c), "element " + c + " = " + row[c]);
        }
    }

    @Test
    void exactTiesRoundToEvenWhereTheScaleHasNoExactInverse() {
        // Scales (the row's max is 127 times each) whose inverse is inexact such that x times it lands next to a
        // tie (k + 1/2) rather than on it, for 30 to 84 of the 254 ties; the code must still be the even neighbour.
        for (int scale : new int[] {3, 49, 75, 99}) {
            KvLayout layout = KvLayout.mla(1, 255, KvDtype.FP32);
            MemorySegment chunk = TestChunks.filled(layout, 1, (plane, layer, token, c) -> c == 0 ? 127f * scale : (c - 127.5f) * scale);

            MemorySegment decoded = roundTrip(layout, 1, chunk);

            for (int c = 1; c < 255; c++) {
                double tie = c - 127.5;
                double even = Math.floor(tie) % 2 == 0 ? Math.floor(tie) : Math.ceil(tie);
                assertEquals((float) (even * scale + 0.0), TestChunks.get(layout, 1, decoded, 0, 0, 0, c), "scale " + scale + ", x / scale = " + tie);
            }
        }
    }

    @Test
    void encodedLengthIsHeaderScalesAndOneBytePerElement() {
        KvLayout layout = KvLayout.standard(24, 2, 64, KvDtype.BF16);
        MemorySegment chunk = TestChunks.random(layout, 256, TestChunks.Distribution.GAUSSIAN, 5);
        MemorySegment encoded = TestChunks.allocate(layout, 256);

        long length = codec.encode(layout, chunk, encoded);

        assertEquals(24 + 4L * 24 * (128 + 256) + 2L * 24 * 256 * 128, length);
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

    /** Checks {@code |x - x'| <= scale/2 + output rounding}, the scale computed here from the group's maximum. */
    static void assertWithinBound(KvLayout layout, int tokens, MemorySegment original, MemorySegment decoded) {
        int dim = layout.tokenDim();
        for (int plane = 0; plane < layout.planes(); plane++) {
            boolean perChannel = plane == 0 && !layout.mla();
            for (int layer = 0; layer < layout.numLayers(); layer++) {
                double[] groupMax = new double[perChannel ? dim : tokens];
                for (int token = 0; token < tokens; token++) {
                    for (int c = 0; c < dim; c++) {
                        int group = perChannel ? c : token;
                        groupMax[group] = Math.max(groupMax[group], Math.abs(TestChunks.get(layout, tokens, original, plane, layer, token, c)));
                    }
                }
                for (int token = 0; token < tokens; token++) {
                    for (int c = 0; c < dim; c++) {
                        double scale = groupMax[perChannel ? c : token] / 127.0;
                        if (scale < 0x1p-133) {
                            scale += 0x1p-149;
                        }
                        float x = TestChunks.get(layout, tokens, original, plane, layer, token, c);
                        float decodedX = TestChunks.get(layout, tokens, decoded, plane, layer, token, c);
                        double outputRounding = layout.dtype() == KvDtype.FP32 ? 0 : TestChunks.halfUlp(layout.dtype(), decodedX);
                        double bound = scale / 2 + outputRounding;
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

    private static double error(KvLayout layout, int tokens, MemorySegment original, MemorySegment decoded, int plane, int layer,
            int token, int c) {
        return Math.abs((double) TestChunks.get(layout, tokens, original, plane, layer, token, c)
                - TestChunks.get(layout, tokens, decoded, plane, layer, token, c));
    }
}
