package org.lmcache4j.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.KvDtype;

class FloatElementsTest {

    /** BF16 rounding by search: of the two BF16 values around {@code f}, the nearer, ties to the even one. */
    private static short bf16BySearch(float f) {
        int bits = Float.floatToRawIntBits(f);
        int low = bits >>> 16; // truncated toward zero
        int high = low + 1;
        double lowValue = Float.intBitsToFloat(low << 16);
        double highValue = Float.intBitsToFloat(high << 16); // infinity past the largest finite value
        double toLow = Math.abs(f - lowValue);
        double toHigh = Math.abs(highValue - f);
        if (Double.isInfinite(highValue)) {
            toHigh = Math.abs(Math.scalb(1.0, 128) * Math.signum(f) - f); // rounding treats the next binade's start as the step
        }
        return (short) (toLow < toHigh || (toLow == toHigh && (low & 1) == 0) ? low : high);
    }

    @Test
    void bf16RoundsToNearestTiesToEven() {
        assertEquals((short) 0x3F80, FloatElements.floatToBf16(Float.intBitsToFloat(0x3F80_8000)), "tie to even: down");
        assertEquals((short) 0x3F82, FloatElements.floatToBf16(Float.intBitsToFloat(0x3F81_8000)), "tie to even: up");
        assertEquals((short) 0x3F81, FloatElements.floatToBf16(Float.intBitsToFloat(0x3F80_8001)), "past the tie");
        assertEquals((short) 0x3F80, FloatElements.floatToBf16(Float.intBitsToFloat(0x3F80_7FFF)), "short of the tie");
        assertEquals((short) 0xBF82, FloatElements.floatToBf16(Float.intBitsToFloat(0xBF81_8000)), "negative tie to even");
        assertEquals((short) 0x7F80, FloatElements.floatToBf16(Float.MAX_VALUE), "past the largest BF16: infinity");
        assertEquals((short) 0x8000, FloatElements.floatToBf16(-0f));
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 100_000; i++) {
            float f = Float.intBitsToFloat(random.nextInt());
            if (!Float.isNaN(f) && !Float.isInfinite(f)) {
                assertEquals(bf16BySearch(f), FloatElements.floatToBf16(f), "float bits " + Integer.toHexString(Float.floatToRawIntBits(f)));
            }
        }
    }

    @Test
    void nanStaysNanInBf16AndFp16() {
        int[] nans = {0x7FC0_0000, 0x7F80_0001, 0xFF80_0001, 0x7FFF_FFFF};
        for (int bits : nans) {
            float nan = Float.intBitsToFloat(bits);
            assertTrue(Float.isNaN(FloatElements.bf16ToFloat(FloatElements.floatToBf16(nan))), Integer.toHexString(bits));
            assertEquals(bits >>> 31, (FloatElements.floatToBf16(nan) >>> 15) & 1, "sign of " + Integer.toHexString(bits));
            MemorySegment seg = Arena.ofAuto().allocate(2);
            FloatElements.write(KvDtype.FP16, seg, 0, nan);
            assertTrue(Float.isNaN(FloatElements.read(KvDtype.FP16, seg, 0)));
        }
    }

    @Test
    void rowsReadExactlyAndWriteRoundedLittleEndian() {
        float[] values = {1f, -2.5f, 0x1.0101p0f, 65504f, 1e-7f, -0f, 0x1p-24f, 3.14159f};
        for (KvDtype dtype : new KvDtype[] {KvDtype.FP32, KvDtype.FP16, KvDtype.BF16}) {
            MemorySegment seg = Arena.ofAuto().allocate((long) values.length * dtype.sizeBytes() + 3).asSlice(3); // unaligned
            FloatElements.writeRow(dtype, values, new short[values.length], values.length, seg, 0);
            float[] back = new float[values.length];
            FloatElements.readRow(dtype, seg, 0, back, new short[values.length], values.length);
            for (int i = 0; i < values.length; i++) {
                float expected = switch (dtype) {
                    case FP32 -> values[i];
                    case FP16 -> Float.float16ToFloat(Float.floatToFloat16(values[i]));
                    default -> Float.intBitsToFloat(bf16BySearch(values[i]) << 16);
                };
                assertEquals(expected, back[i], dtype + " element " + i);
                assertEquals(expected, FloatElements.read(dtype, seg, (long) i * dtype.sizeBytes()), dtype + " element " + i);
                long bits = dtype == KvDtype.FP32 ? Float.floatToRawIntBits(expected) & 0xFFFF_FFFFL
                        : (dtype == KvDtype.FP16 ? Float.floatToFloat16(expected) : bf16BySearch(expected)) & 0xFFFFL;
                assertEquals(bits & 0xFF, seg.get(ValueLayout.JAVA_BYTE, (long) i * dtype.sizeBytes()) & 0xFF, "low byte first");
            }
            MemorySegment one = Arena.ofAuto().allocate(4);
            FloatElements.write(dtype, one, 0, 0x1.0101p0f);
            assertEquals(back[2], FloatElements.read(dtype, one, 0), "write rounds as writeRow does");
        }
        assertThrows(IllegalArgumentException.class, () -> FloatElements.read(KvDtype.FP8_E4M3, Arena.ofAuto().allocate(1), 0));
    }
}
