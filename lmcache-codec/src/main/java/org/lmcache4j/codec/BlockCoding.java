package org.lmcache4j.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * How a {@link ShuffledBlockCodec} stores one block of a chunk that is not stored raw: byte-shuffled and
 * compressed ({@link ShuffledCompression}), or its high bytes coded in four bits ({@link NibbleCoding}).
 * The codec owns everything around the blocks (the {@link BlockTable}, raw blocks, streaming); a coding
 * sees one block at a time.
 */
interface BlockCoding {

    /**
     * Opens what one encode call encodes its blocks with, for blocks of at most {@code blockBytes} of
     * {@code elementBytes}-byte elements; native scratch is allocated in {@code arena}, closed after the
     * call (heap scratch, as {@link NibbleCoding}'s, goes with the encoder).
     */
    Encoder openEncoder(int elementBytes, int blockBytes, Arena arena);

    /** Opens what one decode call decodes its blocks with; as {@link #openEncoder}. */
    Decoder openDecoder(int elementBytes, int blockBytes, Arena arena);

    /** Encodes blocks one after another, on one thread. */
    interface Encoder extends AutoCloseable {

        /**
         * Encodes {@code block} (whole elements) into {@code dst}, which is shorter than the block.
         *
         * @return the stored length, or -1 when the encoding would not fit in {@code dst}
         */
        int encode(MemorySegment block, MemorySegment dst);

        @Override
        void close();
    }

    /** Decodes blocks one after another, on one thread. */
    interface Decoder extends AutoCloseable {

        /**
         * Decodes {@code stored} (one block's stored bytes) into {@code block} (its logical bytes), writing
         * nowhere else.
         *
         * @throws MalformedBlockException when {@code stored} is not a block of that length this coding writes
         */
        void decode(MemorySegment stored, MemorySegment block) throws MalformedBlockException;

        @Override
        void close();
    }
}
