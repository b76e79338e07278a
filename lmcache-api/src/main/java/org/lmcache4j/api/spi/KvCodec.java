package org.lmcache4j.api.spi;

import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.KvLayout;

/**
 * Encodes a chunk's KV bytes for a slower tier (disk, a shared file system, a remote store) and decodes
 * them back, so that a chunk smaller on the wire arrives sooner and more chunks fit. The cpu tier never
 * encodes: engines copy from its pages.
 *
 * <p>The bytes are one chunk buffer of whole tokens of a {@link KvLayout}:
 * {@code [plane][layer][token][numKvHeads * headDim]} elements of {@link KvLayout#dtype()}, little-endian,
 * plane 0 holding K and plane 1 V (one latent plane for MLA). A codec is found by its {@link #name()}
 * through {@link java.util.ServiceLoader}; a tier writes its {@link #id()} and the logical length beside the
 * encoded bytes and their checksum, so a reader never guesses how a chunk was stored.
 *
 * <p>Contract (each codec's tests in lmcache-codec check it):
 * <ul>
 *   <li>A lossless codec ({@link #lossy()} false) decodes exactly the bytes it encoded, for every dtype
 *       and bit pattern (NaN payloads, signed zeros, infinities included).</li>
 *   <li>A lossy codec states its per-element error bound and its handling of NaN and infinities in its
 *       class comment; tiers mark chunks stored through it so a retrieve can report lossy KV.</li>
 *   <li>{@link #encode} returns -1 when it will not encode the chunk: a lossless codec when its result
 *       would not be smaller, a lossy one when it cannot represent the chunk (NaN or infinities). The tier
 *       then stores the chunk raw, exactly, as it does whenever an encoding is not smaller than the chunk
 *       (a lossy codec's scales can outweigh its codes on a chunk of a few tokens).</li>
 *   <li>{@link #decode} of any bytes reads and writes only within its arguments, ends, and throws
 *       {@link CorruptEncodingException} when their structure is not one this codec writes (lengths, block
 *       tables, a compressed stream that does not decode to the expected length). Changed bytes that still
 *       decode are not its to catch: a tier checks the stored bytes' checksum before it decodes them.</li>
 *   <li>Implementations are thread-safe: one instance serves every tier and thread.</li>
 * </ul>
 */
public interface KvCodec {

    /** The id of chunks stored as they are (no codec): what a tier writes when {@link #encode} returns -1. */
    int RAW_ID = 0;

    /**
     * The name configuration uses: lower case, as in {@code LMCACHE_DISK_CODEC=shuffle+zstd}; LMCache's
     * name where LMCache has the same encoding.
     */
    String name();

    /** The number stored with each chunk, 1-255 (0 is {@link #RAW_ID}); never reused for another encoding. */
    int id();

    /** True when a decoded chunk may differ from the encoded one. */
    boolean lossy();

    /** Whether chunks of {@code layout} can be encoded (a quantizing codec needs a 16- or 32-bit float dtype). */
    boolean supports(KvLayout layout);

    /** The most bytes {@link #encode} writes for a chunk of {@code logicalBytes} of {@code layout}. */
    long maxEncodedBytes(KvLayout layout, long logicalBytes);

    /**
     * Encodes the chunk {@code src} into {@code dst} from its start.
     *
     * @return the encoded length, or -1 when it would not be smaller than {@code src} (store it raw)
     * @throws IllegalArgumentException when {@code src} is not whole tokens of {@code layout}, the layout is
     *                                  not {@linkplain #supports supported}, or {@code dst} is smaller than
     *                                  {@link #maxEncodedBytes}
     */
    long encode(KvLayout layout, MemorySegment src, MemorySegment dst);

    /**
     * Decodes {@code encoded} (exactly what {@link #encode} returned the length of) into {@code dst}, whose
     * size is the chunk's logical length.
     *
     * @throws CorruptEncodingException when {@code encoded} is not structured as an encoding of a chunk of that length
     * @throws IllegalArgumentException when {@code dst} is not whole tokens of {@code layout}
     */
    void decode(KvLayout layout, MemorySegment encoded, MemorySegment dst);

    /**
     * A decoding of one chunk into {@code dst} that starts before all of its encoded bytes have arrived,
     * so a tier reading them from a device or a socket decodes what it has while the rest is on its way;
     * null (the default) when this codec decodes only whole encodings. Optional: tiers fall back to
     * {@link #decode} without it.
     */
    default StreamingDecode streamingDecode(KvLayout layout, MemorySegment dst) {
        return null;
    }

    /**
     * One chunk's decoding as its encoded bytes arrive in order, front to back. Not thread-safe: the tier
     * calls it from one thread at a time. What it wrote into the target counts only once {@link #finish}
     * returned; a tier that finds the stored bytes' checksum wrong discards the target whatever was decoded.
     */
    interface StreamingDecode {

        /**
         * Decodes what it can of {@code encoded}'s first {@code available} bytes (the whole encoding's
         * buffer, filled so far up to there); {@code available} never shrinks between calls.
         *
         * @throws CorruptEncodingException when those bytes cannot be the start of an encoding of the chunk
         */
        void advance(MemorySegment encoded, long available);

        /**
         * Decodes the rest of the whole {@code encoded} and checks that the chunk came out whole.
         *
         * @throws CorruptEncodingException as {@link KvCodec#decode} would
         */
        void finish(MemorySegment encoded);
    }
}
