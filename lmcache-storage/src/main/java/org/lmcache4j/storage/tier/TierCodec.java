package org.lmcache4j.storage.tier;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Objects;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.KvCodec;
import org.lmcache4j.api.spi.KvCodecs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A slower tier's codec: how it encodes the chunks it writes ({@code codec=} in its URL, {@value KvCodecs#RAW}
 * by default) and how it decodes the chunks it reads, whichever codec stored them (the id in each chunk's
 * header names it: a tier may hold chunks of several codecs after its setting changed).
 *
 * <p>Encoding goes into a buffer of the calling thread's own, reused by its next encode: the tiers encode
 * on their write-behind threads, one chunk at a time each.
 */
public final class TierCodec {

    /** The name of the URL option that sets a tier's codec. */
    public static final String URL_OPTION = "codec";

    private static final Logger LOG = LoggerFactory.getLogger(TierCodec.class);
    private static final java.util.concurrent.atomic.AtomicBoolean LINK_WARNED = new java.util.concurrent.atomic.AtomicBoolean();
    private static final TierCodec RAW = new TierCodec(null, null, Long.MAX_VALUE);
    /** A thread that owns nothing: memory it may access, any reader's helper thread may access. */
    private static final Thread ANOTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    private final KvCodec codec; // null: chunks are written raw
    private final KvLayout layout; // null only for RAW without a layout: nothing can be decoded
    private final long maxLogicalBytes; // the largest chunk a stored chunk may claim to be
    private final ThreadLocal<MemorySegment> scratch = new ThreadLocal<>(); // a writing thread's encoded bytes
    private final ThreadLocal<MemorySegment> storedBuffers = new ThreadLocal<>(); // a reading thread's stored bytes
    private final java.util.concurrent.atomic.LongAdder lossyChunksRead = new java.util.concurrent.atomic.LongAdder();

    private TierCodec(KvCodec codec, KvLayout layout, long maxLogicalBytes) {
        this.codec = codec;
        this.layout = layout;
        this.maxLogicalBytes = maxLogicalBytes;
    }

    /**
     * This codec, for a tier whose chunks are at most {@code maxLogicalBytes} ({@code TierOptions.chunkBytes()}):
     * an encoded chunk claiming to decode to more is corrupt, whatever its checksum, and nothing is
     * allocated for it ({@link #checkLogicalLength}).
     */
    public TierCodec withMaxLogicalBytes(long maxLogicalBytes) {
        if (maxLogicalBytes <= 0) {
            throw new IllegalArgumentException("maxLogicalBytes: " + maxLogicalBytes + " (expected: > 0)");
        }
        return new TierCodec(codec, layout, maxLogicalBytes);
    }

    /**
     * Checks, before anything is allocated for it, that a stored chunk of {@code codecId} claiming
     * {@code logicalBytes} can be read here: at most the tier's largest chunk, raw or encoded (a header claiming more
     * is damaged, whatever its checksum); an encoded one also needs a layout to decode with.
     *
     * @throws CodecUnavailableException when this tier has no layout to decode with
     * @throws CorruptChunkException     when the length exceeds the tier's largest chunk
     */
    public void checkLogicalLength(int codecId, long logicalBytes, String where) throws CorruptChunkException {
        if (codecId == KvCodec.RAW_ID) {
            if (logicalBytes > maxLogicalBytes) {
                throw new CorruptChunkException(where, "raw payload of " + logicalBytes + " bytes (expected: at most "
                        + maxLogicalBytes + ", the largest chunk of this tier)");
            }
            return;
        }
        if (layout == null) {
            throw new CodecUnavailableException(where, "stored with codec id " + codecId + ", but this tier was opened without a KV"
                    + " layout to decode it with");
        }
        if (logicalBytes > maxLogicalBytes) {
            throw new CorruptChunkException(where, "codec id " + codecId + ", logical length " + logicalBytes + " (expected: at most "
                    + maxLogicalBytes + ", the largest chunk of this tier)");
        }
    }

    /**
     * Checks a payload a put was given against the tier's largest chunk ({@link #withMaxLogicalBytes}), as
     * {@code StorageTier.put} promises: a tier would store it and then read it back as damaged.
     *
     * @throws IllegalArgumentException when it is larger, naming {@code where}
     */
    public void requireFits(long payloadBytes, String where) {
        if (payloadBytes > maxLogicalBytes) {
            throw new IllegalArgumentException(where + ": payload of " + payloadBytes + " bytes (expected: at most " + maxLogicalBytes
                    + ", the largest chunk of this tier)");
        }
    }

    /** Writes every chunk raw and reads only raw chunks (no layout to decode others with). */
    public static TierCodec raw() {
        return RAW;
    }

    /**
     * The codec a tier URL's {@value #URL_OPTION} option names ({@code null} or blank: raw) for chunks of
     * {@code layout}, which may be null only for raw.
     *
     * @param url names the tier in errors
     * @throws IllegalArgumentException when the codec is unknown or unsupported, or needs a layout and has none
     */
    public static TierCodec forTier(String url, String name, KvLayout layout) {
        boolean raw = name == null || name.isBlank() || name.strip().equalsIgnoreCase(KvCodecs.RAW);
        if (layout == null) {
            if (!raw) {
                throw new IllegalArgumentException("tier URL " + url + ": codec=" + name + " (expected: raw; this tier was opened"
                        + " without a KV layout, which a codec needs: TierOptions.layout())");
            }
            return RAW;
        }
        try {
            return of(name, layout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tier URL " + url + ": " + e.getMessage(), e);
        }
    }

    /**
     * The codec named {@code name} ({@value KvCodecs#RAW} or one on the class or module path) for chunks of
     * {@code layout}.
     *
     * @throws IllegalArgumentException when no codec has that name, or it cannot encode chunks of {@code layout}
     */
    public static TierCodec of(String name, KvLayout layout) {
        Objects.requireNonNull(layout, "layout");
        if (name == null || name.isBlank() || name.strip().toLowerCase(Locale.ROOT).equals(KvCodecs.RAW)) {
            return new TierCodec(null, layout, Long.MAX_VALUE);
        }
        KvCodec codec = KvCodecs.byName(name);
        if (!codec.supports(layout)) {
            throw new IllegalArgumentException("codec '" + codec.name() + "': cannot encode KV of dtype " + layout.dtype()
                    + " (" + layout + ")");
        }
        return new TierCodec(codec, layout, Long.MAX_VALUE);
    }

    /** The configured codec's name, {@value KvCodecs#RAW} when none. */
    public String name() {
        return codec == null ? KvCodecs.RAW : codec.name();
    }

    /** True when the chunks this tier writes may decode to other bytes than were put. */
    public boolean lossy() {
        return codec != null && codec.lossy();
    }

    /** A chunk as a tier stores it. */
    public record Encoded(int codecId, MemorySegment bytes, long logicalBytes) {
    }

    /**
     * {@code payload} as this tier stores it: encoded into this thread's buffer, valid until this thread's
     * next {@code encode}, or {@code payload} itself (codec id 0) when no codec is set, the codec declines
     * the chunk, or its encoding is not smaller (raw is then exact at no cost in bytes).
     */
    public Encoded encode(MemorySegment payload) {
        if (codec == null || payload.byteSize() == 0 || payload.byteSize() % layout.bytesPerToken() != 0) {
            return new Encoded(KvCodec.RAW_ID, payload, payload.byteSize()); // a partial token cannot be a chunk of the layout
        }
        long bound = codec.maxEncodedBytes(layout, payload.byteSize());
        MemorySegment buffer = scratch.get();
        if (buffer == null || buffer.byteSize() < bound) {
            buffer = Arena.ofAuto().allocate(bound, 4096);
            scratch.set(buffer);
        }
        long n;
        try {
            n = codec.encode(layout, payload, buffer);
        } catch (LinkageError e) { // its native library cannot load here (zstd-jni): store raw, exact at the cost of bytes
            if (LINK_WARNED.compareAndSet(false, true)) {
                LOG.warn("codec {} cannot run in this process ({}): chunks are stored raw", codec.name(), e.toString());
            }
            return new Encoded(KvCodec.RAW_ID, payload, payload.byteSize());
        }
        return n < 0 || n >= payload.byteSize() ? new Encoded(KvCodec.RAW_ID, payload, payload.byteSize()) : new Encoded(codec.id(), buffer.asSlice(0, n),
                payload.byteSize());
    }

    /** True when a chunk stored with {@code codecId} decodes to other bytes than were put. */
    public static boolean lossy(int codecId) {
        return codecId != KvCodec.RAW_ID && KvCodecs.byId(codecId).lossy();
    }

    /** Smallest stored-bytes buffer a reading thread keeps, so small chunks do not regrow it one by one. */
    private static final long MIN_STORED_BUFFER_BYTES = 64 << 10;
    /** What {@code O_DIRECT} reads into the buffer need of its address: a file-system block. */
    private static final long STORED_BUFFER_ALIGNMENT = 4096;

    /**
     * This thread's buffer for the stored bytes of encoded chunks it reads (one chunk's, or a batch's), at
     * least {@code bytes} long and readable by any thread (a read's helper); valid until this thread's next
     * call, which may replace it by a larger one. It lives as long as its thread.
     */
    public MemorySegment storedBuffer(long bytes) {
        MemorySegment b = storedBuffers.get();
        if (b == null || b.byteSize() < bytes) {
            b = Arena.ofAuto().allocate(Math.max(bytes, MIN_STORED_BUFFER_BYTES), STORED_BUFFER_ALIGNMENT);
            storedBuffers.set(b);
        }
        return b;
    }

    /** Chunks decoded through this tier's codec that a lossy codec had stored. */
    public long lossyChunksRead() {
        return lossyChunksRead.sum();
    }

    private void decoded(int codecId) {
        if (lossy(codecId)) {
            lossyChunksRead.increment();
        }
    }

    /**
     * A decoding of one chunk written with {@code codecId} into {@code target} (its logical length) that a
     * reader may feed as the stored bytes arrive ({@link Decoding#overlapped}), then {@link Decoding#finish}es.
     * Codecs without {@link KvCodec#streamingDecode} decode everything in {@code finish}.
     *
     * @throws CodecUnavailableException when no codec here has that id, or this tier has no layout to decode with
     */
    public Decoding decoding(int codecId, MemorySegment target, String where) throws CorruptChunkException {
        if (codecId == KvCodec.RAW_ID) {
            return new Decoding(this, codecId, null, null, target, where);
        }
        KvCodec c = codecOf(codecId, where);
        KvCodec.StreamingDecode streaming;
        try {
            streaming = c.streamingDecode(layout, target);
        } catch (IllegalArgumentException e) {
            throw new CorruptChunkException(where, "codec " + c.name() + ": " + e.getMessage());
        } catch (LinkageError e) {
            throw cannotRun(c, e, where);
        }
        return new Decoding(this, codecId, c, streaming, target, where);
    }

    /** One chunk's decoding; see {@link #decoding}. */
    public static final class Decoding {
        private final TierCodec tier;
        private final int codecId;
        private final KvCodec codec;
        private final KvCodec.StreamingDecode streaming;
        private final MemorySegment target;
        private final String where;
        private volatile Throwable failed; // a RuntimeException or LinkageError of a decode of the bytes so far: finish reports it

        private Decoding(TierCodec tier, int codecId, KvCodec codec, KvCodec.StreamingDecode streaming, MemorySegment target,
                         String where) {
            this.tier = tier;
            this.codecId = codecId;
            this.codec = codec;
            this.streaming = streaming;
            this.target = target;
            this.where = where;
        }

        /**
         * What a reader filling {@code stored} front to back tells of the prefix it has filled, or null when
         * this decoding cannot start early. Called by one thread at a time (the reader's contract).
         */
        public java.util.function.LongConsumer overlapped(MemorySegment stored) {
            if (streaming == null || !target.isAccessibleBy(ANOTHER_THREAD) || !stored.isAccessibleBy(ANOTHER_THREAD)) {
                return null; // a reader's helper thread may call it: memory confined to the caller is decoded by finish alone
            }
            return available -> {
                if (failed == null) {
                    try {
                        streaming.advance(stored, available);
                    } catch (RuntimeException | LinkageError e) {
                        failed = e;
                    }
                }
            };
        }

        /**
         * Decodes the rest of {@code stored} (all of it, checked already) into the target.
         *
         * @throws CorruptChunkException when the bytes do not decode to the chunk
         */
        public void finish(MemorySegment stored) throws CorruptChunkException {
            if (codec == null) {
                tier.decode(codecId, stored, target, where);
                return;
            }
            try {
                if (failed instanceof LinkageError e) {
                    throw e;
                }
                if (failed != null) {
                    throw (RuntimeException) failed;
                }
                if (streaming != null) {
                    streaming.finish(stored);
                } else {
                    codec.decode(tier.layout, stored, target);
                }
            } catch (RuntimeException e) { // CorruptEncodingException, or any other failure of a codec on bad bytes
                throw new CorruptChunkException(where, "codec " + codec.name() + ": " + e);
            } catch (LinkageError e) {
                throw cannotRun(codec, e, where);
            }
            tier.decoded(codecId);
        }
    }

    private KvCodec codecOf(int codecId, String where) throws CodecUnavailableException {
        if (layout == null) {
            throw new CodecUnavailableException(where, "stored with codec id " + codecId + ", but this tier was opened without a KV"
                    + " layout to decode it with");
        }
        KvCodec c;
        try {
            c = KvCodecs.byId(codecId);
        } catch (IllegalArgumentException e) {
            throw new CodecUnavailableException(where, e.getMessage());
        } catch (LinkageError e) { // the codec registry failed to load
            throw new CodecUnavailableException(where, "codec id " + codecId + ": the codecs cannot load here: " + e);
        }
        if (c.lossy() && !lossy()) {
            throw new CodecUnavailableException(where, "stored by the lossy codec " + c.name() + "; this tier (codec " + name()
                    + ") reads lossy chunks only when it is configured with a lossy codec itself");
        }
        return c;
    }

    /**
     * Decodes the stored bytes of a chunk written with {@code codecId} into {@code target}, its logical length.
     *
     * @param where names the chunk's resource in errors
     * @throws CorruptChunkException when the bytes are no encoding of that codec, or no codec here has that id
     */
    public void decode(int codecId, MemorySegment stored, MemorySegment target, String where) throws CorruptChunkException {
        if (codecId == KvCodec.RAW_ID) {
            if (stored.byteSize() != target.byteSize()) {
                throw new CorruptChunkException(where, "raw payload of " + stored.byteSize() + " bytes (expected: "
                        + target.byteSize() + ")");
            }
            MemorySegment.copy(stored, 0, target, 0, stored.byteSize());
            return;
        }
        KvCodec c = codecOf(codecId, where);
        try {
            c.decode(layout, stored, target);
        } catch (RuntimeException e) { // CorruptEncodingException, or any other failure of a codec on bad bytes
            throw new CorruptChunkException(where, "codec " + c.name() + ": " + e.getMessage());
        } catch (LinkageError e) {
            throw cannotRun(c, e, where);
        }
        decoded(codecId);
    }

    /**
     * A codec whose native library cannot load in this process (zstd-jni without its platform's library, a noexec temporary
     * directory): its chunks are a miss here, never dropped as corrupt from a store other engines read.
     */
    private static CodecUnavailableException cannotRun(KvCodec c, LinkageError e, String where) {
        return new CodecUnavailableException(where, "codec " + c.name() + " cannot run in this process: " + e);
    }
}
