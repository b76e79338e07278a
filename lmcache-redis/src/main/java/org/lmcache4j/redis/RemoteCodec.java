package org.lmcache4j.redis;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import org.lmcache4j.api.spi.KvCodec;
import org.lmcache4j.api.spi.KvCodecs;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.TierCodec;

/**
 * The remote tier's {@link TierCodec} ({@code codec=} in its URL) and the buffers its reads decode from.
 * A chunk stored raw is read straight into the caller's memory, as it always was; an encoded chunk's
 * stored bytes are read (parts reassembled, checksum checked) into a buffer of the reading thread's own,
 * then decoded into the caller's memory: a codec decodes from whole stored bytes, never from parts as
 * they arrive.
 *
 * <p>The buffer is the tier codec's ({@link TierCodec#storedBuffer}: off-heap, it goes with its thread), grown to the most stored
 * bytes one call of that thread needed at once: one chunk's, or a batched read's encoded chunks together,
 * which it reads in one pipeline.
 *
 * <p>An encoded chunk's logical length is bounded by the largest chunk of the tier's connector
 * ({@code TierOptions.chunkBytes()}, the same for every connector of a namespace): a header claiming more,
 * whatever its checksum, is corrupt, so a read never allocates more than a chunk for it (a raw chunk's
 * length is bounded by the bytes of its parts, {@link RemoteChunkFormat#checkParts}).
 */
final class RemoteCodec {


    private final TierCodec codec;
    private final long maxLogicalBytes;

    /**
     * @param maxLogicalBytes the largest chunk an encoded chunk may decode to, &gt; 0
     *                        ({@code TierOptions.chunkBytes()}; {@code Long.MAX_VALUE} when not known)
     */
    RemoteCodec(TierCodec codec, long maxLogicalBytes) {
        if (maxLogicalBytes <= 0) {
            throw new IllegalArgumentException("maxLogicalBytes: " + maxLogicalBytes + " (expected: > 0)");
        }
        this.codec = Objects.requireNonNull(codec, "codec").withMaxLogicalBytes(maxLogicalBytes);
        this.maxLogicalBytes = maxLogicalBytes;
    }

    /**
     * Writes chunks raw, and, having no KV layout, decodes no encoded chunk: to a tier opened so (tests,
     * tools without a layout) an encoded chunk is corrupt, as one of a codec not on the path is.
     */
    static RemoteCodec raw() {
        return new RemoteCodec(TierCodec.raw(), Long.MAX_VALUE);
    }

    /** Chunks decoded whole that a lossy codec had stored. */
    long lossyChunksRead() {
        return codec.lossyChunksRead();
    }

    /** True when the configured codec is lossy. */
    boolean lossy() {
        return codec.lossy();
    }

    /** The configured codec's name, {@value KvCodecs#RAW} when chunks are written as they are. */
    String name() {
        return codec.name();
    }

    /** True when puts encode chunks (a codec other than {@value KvCodecs#RAW} is set). */
    boolean encodes() {
        return !codec.name().equals(KvCodecs.RAW);
    }

    /** {@code payload} as the tier stores it ({@link TierCodec#encode}: valid until this thread's next encode). */
    TierCodec.Encoded encode(MemorySegment payload) {
        return codec.encode(payload);
    }

    /** True when the chunk of {@code header} was stored as it is: read straight into the target. */
    static boolean raw(RemoteChunkFormat.Header header) {
        return header.kvCodecId() == KvCodec.RAW_ID;
    }

    /** @throws IllegalArgumentException when a payload of {@code bytes} is larger than the tier's largest chunk (a put's check) */
    void requireFits(long bytes, org.lmcache4j.api.ChunkKey key) {
        codec.requireFits(bytes, "remote tier, chunk " + key);
    }

    /**
     * Checks that the chunk of {@code header}, raw or encoded, claims a logical length of at most the tier's
     * largest chunk: before a read allocates or fills that much (a header claiming more is damaged, whatever its checksum).
     *
     * @throws CorruptChunkException when it claims more
     */
    void checkLogical(RemoteChunkFormat.Header header, String where) throws CorruptChunkException {
        if (header.logicalBytes() > maxLogicalBytes) {
            throw new CorruptChunkException(where, "codec id " + header.kvCodecId() + ", logical length " + header.logicalBytes()
                    + " (expected: at most " + maxLogicalBytes + ", the largest chunk of this connector)");
        }
    }

    /**
     * This thread's buffer for stored bytes, at least {@code bytes} long; its contents are valid until this
     * thread's next call (which may replace it by a larger one).
     */
    MemorySegment storedBuffer(long bytes) {
        return codec.storedBuffer(bytes);
    }

    /**
     * A decoding of the chunk of {@code header} into {@code target} (its logical length) that its reader
     * feeds as the stored bytes arrive ({@link TierCodec#decoding}).
     *
     * @throws CorruptChunkException when no codec on the path has the header's codec id
     */
    TierCodec.Decoding decoding(RemoteChunkFormat.Header header, MemorySegment target, String where) throws CorruptChunkException {
        return codec.decoding(header.kvCodecId(), target, where);
    }

    /**
     * Decodes the checked stored bytes of the chunk of {@code header} into {@code target} (its logical length).
     *
     * @throws CorruptChunkException when they do not decode, or no codec on the path has the header's codec id
     */
    void decode(RemoteChunkFormat.Header header, MemorySegment stored, MemorySegment target, String where)
            throws CorruptChunkException {
        codec.decode(header.kvCodecId(), stored, target, where);
    }
}
