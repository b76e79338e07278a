package org.lmcache4j.codec;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link NibbleKernel} on the Vector API: per group of 32 elements, 16 code bytes split into their low
 * and high nibbles (elements 0-15 and 16-31), each looked up in the block's table with one byte shuffle,
 * widened to 16 bits, shifted into the high byte and joined with the 16 low bytes. Loaded only when the
 * JVM has {@code jdk.incubator.vector} ({@link NibbleKernel#best()}).
 */
final class VectorNibbleKernel implements NibbleKernel {

    private static final VectorSpecies<Byte> BYTES = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> SHORTS = ShortVector.SPECIES_256;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Public for {@link NibbleKernel.Best}'s reflection. */
    public VectorNibbleKernel() {
    }

    @Override
    public void decodePairs(MemorySegment stored, MemorySegment block, int groups, long restAt) {
        ByteVector table = ByteVector.fromMemorySegment(BYTES, stored, 0, LE);
        for (int g = 0; g < groups; g++) {
            ByteVector codes = ByteVector.fromMemorySegment(BYTES, stored, NibbleCoding.HEADER_BYTES + 16L * g, LE);
            ByteVector first = codes.and((byte) 0x0F).selectFrom(table);
            ByteVector second = codes.lanewise(VectorOperators.LSHR, 4).selectFrom(table);
            long low = restAt + 32L * g;
            join(first, ByteVector.fromMemorySegment(BYTES, stored, low, LE)).intoMemorySegment(block, 64L * g, LE);
            join(second, ByteVector.fromMemorySegment(BYTES, stored, low + 16, LE)).intoMemorySegment(block, 64L * g + 32, LE);
        }
    }

    /** 16 elements: {@code high} bytes over {@code low} bytes. */
    private static ShortVector join(ByteVector high, ByteVector low) {
        ShortVector h = (ShortVector) high.convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
        ShortVector l = (ShortVector) low.convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORTS, 0);
        return h.lanewise(VectorOperators.LSHL, 8).or(l);
    }

    @Override
    public String name() {
        return "vector";
    }
}
