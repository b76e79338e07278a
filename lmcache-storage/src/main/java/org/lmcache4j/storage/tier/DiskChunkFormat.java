package org.lmcache4j.storage.tier;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;
import org.lmcache4j.api.ChunkKey;

/**
 * The file format of one chunk of the {@code disk} tier: a self-describing header, zero padding up to
 * {@value #PAYLOAD_OFFSET} bytes, then the payload. The {@code remote} tier stores the same header, with
 * its own version number and no padding (see {@link #encodeHeader} and {@link #decodeHeader}), in front
 * of its part table.
 *
 * <p>Header, all integers little-endian:
 * <pre>
 *  offset  size  field
 *       0     8  magic "LMC4JKV\0"
 *       8     4  format version: 3 in a disk file ({@link #FILE_VERSION}), 2 in a remote value ({@link #FRAME_VERSION})
 *      12     4  header length in bytes, this table included (64 + key length + parent length)
 *      16     8  layout fingerprint: the 16 hex digits of KvLayout.fingerprint() as 8 bytes, in text order
 *      24     4  key length k (16..64)
 *      28     k  key bytes
 *    28+k     4  parent-key length p (0..64; 0 = none; reserved for partial-tail indexing)
 *    32+k     p  parent-key bytes
 *  32+k+p     4  codec id: 0 = the payload is the chunk's KV as the engine holds it, else the
 *                {@link org.lmcache4j.api.spi.KvCodec#id()} of the codec that encoded it
 *  36+k+p     8  logical length: the chunk's KV bytes once decoded (the payload length when the codec is 0)
 *  44+k+p     4  token count (0 = unknown)
 *  48+k+p     8  payload length in bytes: what is stored, encoded or not
 *  56+k+p     4  CRC32C of the payload as stored
 *  60+k+p     4  CRC32C of every header byte before this field
 * </pre>
 * Chunks stored raw (codec 0) are still written in the versions before codecs (2 in a disk file, 1 in a
 * remote value: no codec id and no logical length, 52 + k + p bytes), byte for byte what earlier releases
 * wrote and read: an upgrade, a rollback or engines of both releases sharing a store keep every raw chunk.
 * Only encoded chunks carry the versions above, which earlier releases treat as foreign.
 * In a disk file, zero bytes follow the header up to offset {@value #PAYLOAD_OFFSET}, where the payload
 * starts; the file ends with it. The payload is page-aligned so that reads copy it from the page cache
 * at aligned addresses (faster than from offset 84, where version 1 put it) and can bypass the page
 * cache ({@code O_DIRECT}). Readers read the first {@value #PAYLOAD_OFFSET} bytes at once, check the
 * header whole before trusting any field, then the padding and the file length, and the payload
 * checksum after reading it; a mismatch, or a file of another version, is a {@link CorruptChunkException}.
 */
public final class DiskChunkFormat {

    /** First 8 bytes of every chunk file. */
    public static final byte[] MAGIC = "LMC4JKV\0".getBytes(StandardCharsets.US_ASCII);
    /** The format version of a disk file of an encoded chunk; raw chunks are written in version 2, and version 1 files are misses, and deleted. */
    public static final int FILE_VERSION = 3;
    /** The format version of a header held in memory (a remote value) of an encoded chunk; raw chunks are written in version 1. */
    public static final int FRAME_VERSION = 2;
    /** The disk file version before codecs: read as a raw chunk. */
    static final int RAW_FILE_VERSION = 2;
    /** The remote header version before codecs: read as a raw chunk. */
    static final int RAW_FRAME_VERSION = 1;
    /** Offset of the payload in a disk file: the header, then zeros up to here. */
    public static final int PAYLOAD_OFFSET = 4096;

    private static final int FIXED_BYTES = 64;
    private static final int RAW_FIXED_BYTES = 52; // versions without codec id and logical length
    private static final int PREAMBLE_BYTES = 16; // magic, version, header length: enough to size the rest
    private static final int MAX_KEY_BYTES = 64;
    private static final int MIN_KEY_BYTES = 16;
    private static final int MAX_SLICE_BYTES = 1 << 30; // a ByteBuffer holds at most 2 GiB

    private final byte[] fingerprint;
    private final String fingerprintHex;

    /**
     * A format bound to one KV layout: it writes {@code layoutFingerprint} and reads only files carrying it.
     *
     * @throws IllegalArgumentException unless the fingerprint is 16 hex digits
     */
    public DiskChunkFormat(String layoutFingerprint) {
        if (layoutFingerprint == null || layoutFingerprint.length() != 16 || !layoutFingerprint.chars().allMatch(HexFormat::isHexDigit)) {
            throw new IllegalArgumentException("layoutFingerprint: '" + layoutFingerprint
                    + "' (expected: 16 hex digits, as KvLayout.fingerprint() returns)");
        }
        this.fingerprint = HexFormat.of().parseHex(layoutFingerprint);
        this.fingerprintHex = HexFormat.of().formatHex(fingerprint);
    }

    /** Bytes of the header of an encoded chunk whose key and parent key have these lengths (a raw chunk's is 12 shorter). */
    public static int headerBytes(int keyLength, int parentLength) {
        return FIXED_BYTES + keyLength + parentLength;
    }


    /** Length of the disk file of a chunk whose payload has {@code payloadBytes}. */
    public static long fileBytes(long payloadBytes) {
        return PAYLOAD_OFFSET + payloadBytes;
    }

    /** The first {@value #PAYLOAD_OFFSET} bytes of the disk file of a chunk stored raw: its header and the zeros after it. */
    public ByteBuffer encodeFileHeader(ChunkKey key, byte[] parentKey, int tokenCount, long payloadBytes, int payloadCrc) {
        return encodeFileHeader(key, parentKey, tokenCount, new Stored(0, payloadBytes, payloadBytes, payloadCrc));
    }

    /** The first {@value #PAYLOAD_OFFSET} bytes of a chunk's disk file: its header and the zeros after it. */
    public ByteBuffer encodeFileHeader(ChunkKey key, byte[] parentKey, int tokenCount, Stored stored) {
        ByteBuffer header = encode(stored.codecId() == 0 ? RAW_FILE_VERSION : FILE_VERSION, key, parentKey, tokenCount, stored);
        ByteBuffer b = ByteBuffer.allocate(PAYLOAD_OFFSET);
        b.put(header).clear();
        return b;
    }

    /** The header of a chunk stored raw as a remote value holds it (version {@value #FRAME_VERSION}, no padding). */
    public ByteBuffer encodeHeader(ChunkKey key, byte[] parentKey, int tokenCount, long payloadBytes, int payloadCrc) {
        return encodeHeader(key, parentKey, tokenCount, new Stored(0, payloadBytes, payloadBytes, payloadCrc));
    }

    /** The header of a chunk as a remote value holds it (version {@value #FRAME_VERSION}, no padding). */
    public ByteBuffer encodeHeader(ChunkKey key, byte[] parentKey, int tokenCount, Stored stored) {
        return encode(stored.codecId() == 0 ? RAW_FRAME_VERSION : FRAME_VERSION, key, parentKey, tokenCount, stored);
    }

    /**
     * How a chunk's payload is stored.
     *
     * @param codecId      0 for the KV as it is, else the id of the codec that encoded it (1-255)
     * @param logicalBytes the KV's length once decoded; the payload's length when {@code codecId} is 0
     * @param payloadBytes the stored payload's length
     * @param payloadCrc   CRC32C of the stored payload
     */
    public record Stored(int codecId, long logicalBytes, long payloadBytes, int payloadCrc) {

        public Stored {
            if (codecId < 0 || codecId > 255) {
                throw new IllegalArgumentException("codecId: " + codecId + " (expected: 0 to 255)");
            }
            if (logicalBytes < 0 || payloadBytes < 0 || codecId == 0 && logicalBytes != payloadBytes) {
                throw new IllegalArgumentException("logicalBytes: " + logicalBytes + ", payloadBytes: " + payloadBytes
                        + " (expected: >= 0, and equal for codec 0)");
            }
        }
    }

    private ByteBuffer encode(int version, ChunkKey key, byte[] parentKey, int tokenCount, Stored stored) {
        long payloadBytes = stored.payloadBytes();
        if (parentKey.length > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("parent key length: " + parentKey.length + " (expected: 0 to " + MAX_KEY_BYTES + ")");
        }
        if (tokenCount < 0 || payloadBytes < 0) {
            throw new IllegalArgumentException("tokenCount: " + tokenCount + ", payloadBytes: " + payloadBytes + " (expected: >= 0)");
        }
        boolean raw = stored.codecId() == 0;
        int length = (raw ? RAW_FIXED_BYTES : FIXED_BYTES) + key.length() + parentKey.length;
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(version).putInt(length).put(fingerprint);
        b.putInt(key.length()).put(key.toBytes());
        b.putInt(parentKey.length).put(parentKey);
        if (!raw) {
            b.putInt(stored.codecId()).putLong(stored.logicalBytes());
        }
        b.putInt(tokenCount).putLong(payloadBytes).putInt(stored.payloadCrc());
        b.putInt(crc32c(b.array(), length - 4));
        return b.flip();
    }

    /**
     * Reads and checks the header of {@code file} with one read of its first {@value #PAYLOAD_OFFSET}
     * bytes: magic, version, header checksum, field bounds, layout fingerprint, the zero padding and the
     * file's length. The payload is not read.
     *
     * @throws CorruptChunkException when the file is torn, corrupt, foreign or of another version
     * @throws IOException           when reading fails
     */
    public Header readHeader(FileChannel ch, Path file) throws IOException {
        String where = CorruptChunkException.diskFile(file);
        long fileBytes = ch.size();
        if (fileBytes < PREAMBLE_BYTES) {
            throw new CorruptChunkException(where, "torn file: " + fileBytes + " bytes (expected: a header of at least "
                    + (RAW_FIXED_BYTES + MIN_KEY_BYTES) + ")");
        }
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(fileBytes, PAYLOAD_OFFSET)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, 0, file);
        boolean raw = checkPreamble(b, FILE_VERSION, RAW_FILE_VERSION, where);
        int length = b.getInt(12);
        if (fileBytes < PAYLOAD_OFFSET) {
            throw new CorruptChunkException(where, "torn file: " + fileBytes + " bytes (expected: a header of " + length
                    + " padded to " + PAYLOAD_OFFSET + ")");
        }
        Header h = decodeChecked(b.duplicate().limit(length).order(ByteOrder.LITTLE_ENDIAN), length, raw, where);
        for (int i = length; i < PAYLOAD_OFFSET; i++) {
            if (b.get(i) != 0) {
                throw new CorruptChunkException(where, "padding byte " + i + ": " + b.get(i) + " (expected: 0)");
            }
        }
        if (fileBytes != PAYLOAD_OFFSET + h.payloadBytes()) {
            throw new CorruptChunkException(where, "torn file: " + fileBytes + " bytes (expected: " + PAYLOAD_OFFSET
                    + " header + " + h.payloadBytes() + " payload bytes)");
        }
        return h;
    }

    /**
     * Decodes and checks a header held in memory (as the {@code remote} tier stores it): the header starts
     * at {@code bytes}' position and may be followed by other bytes, which are left unread. On return the
     * buffer's position is just past the header. The checks are those of {@link #readHeader} but the
     * file length; {@code where} names the resource in error messages.
     *
     * @throws CorruptChunkException when the bytes are truncated, corrupt or foreign
     */
    public Header decodeHeader(ByteBuffer bytes, String where) throws CorruptChunkException {
        ByteBuffer b = bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < PREAMBLE_BYTES) {
            throw new CorruptChunkException(where, "truncated header: " + b.remaining() + " bytes (expected: at least "
                    + (RAW_FIXED_BYTES + MIN_KEY_BYTES) + ")");
        }
        boolean raw = checkPreamble(b, FRAME_VERSION, RAW_FRAME_VERSION, where);
        int length = b.getInt(12);
        if (b.remaining() < length) {
            throw new CorruptChunkException(where, "truncated header: " + b.remaining() + " bytes (expected: " + length + ")");
        }
        ByteBuffer header = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        header.put(0, b, 0, length);
        Header h = decodeChecked(header, length, raw, where);
        bytes.position(bytes.position() + length);
        return h;
    }

    /**
     * Checks magic, version ({@code version}, or {@code rawVersion}, the one before codecs) and the header
     * length at the start of {@code b}; true for {@code rawVersion}.
     */
    private static boolean checkPreamble(ByteBuffer b, int expectedVersion, int rawVersion, String where) throws CorruptChunkException {
        byte[] magic = new byte[MAGIC.length];
        b.get(0, magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new CorruptChunkException(where, "magic " + HexFormat.of().formatHex(magic) + " (expected: "
                    + HexFormat.of().formatHex(MAGIC) + ", not a chunk file)");
        }
        int version = b.getInt(8);
        if (version != expectedVersion && version != rawVersion) {
            throw new CorruptChunkException(where, "format version " + version + " (expected: " + expectedVersion + " or "
                    + rawVersion + ")");
        }
        boolean raw = version == rawVersion;
        int fixed = raw ? RAW_FIXED_BYTES : FIXED_BYTES;
        int length = b.getInt(12);
        if (length < fixed + MIN_KEY_BYTES || length > fixed + 2 * MAX_KEY_BYTES) {
            throw new CorruptChunkException(where, "header length " + length + " (expected: " + (fixed + MIN_KEY_BYTES)
                    + " to " + (fixed + 2 * MAX_KEY_BYTES) + " in version " + version + ")");
        }
        return raw;
    }

    /**
     * Checks and decodes the {@code length} header bytes in the backing array of {@code b}; {@code raw}: of
     * the version before codecs, without codec id and logical length.
     */
    private Header decodeChecked(ByteBuffer b, int length, boolean raw, String where) throws CorruptChunkException {
        int storedCrc = b.getInt(length - 4);
        int actualCrc = crc32c(b.array(), length - 4);
        if (storedCrc != actualCrc) {
            throw new CorruptChunkException(where, "header checksum mismatch (stored " + hex(storedCrc) + ", computed "
                    + hex(actualCrc) + ")");
        }
        b.position(16);
        byte[] fp = new byte[fingerprint.length];
        b.get(fp);
        byte[] key = bytesField(b, "key", MIN_KEY_BYTES, length, where);
        byte[] parent = bytesField(b, "parent key", 0, length, where);
        if (b.remaining() != (raw ? 20 : 32)) {
            throw new CorruptChunkException(where, "header length " + length + " does not match its key lengths "
                    + key.length + " and " + parent.length);
        }
        int codecId = raw ? 0 : b.getInt();
        long logicalBytes = raw ? -1 : b.getLong();
        int tokenCount = b.getInt();
        long payloadBytes = b.getLong();
        int payloadCrc = b.getInt();
        if (raw) {
            logicalBytes = payloadBytes;
        }
        if (tokenCount < 0 || payloadBytes < 0 || logicalBytes < 0) {
            throw new CorruptChunkException(where, "token count " + tokenCount + ", payload length " + payloadBytes
                    + ", logical length " + logicalBytes + " (expected: >= 0)");
        }
        if (codecId < 0 || codecId > 255 || codecId == 0 && logicalBytes != payloadBytes || codecId != 0 && !raw
                && payloadBytes >= logicalBytes) {
            throw new CorruptChunkException(where, "codec id " + codecId + ", logical length " + logicalBytes + ", payload length "
                    + payloadBytes + " (expected: a codec id of 0 to 255; equal lengths for codec 0, a shorter payload for any"
                    + " other, which is the only one written)");
        }
        if (!Arrays.equals(fp, fingerprint)) {
            throw new CorruptChunkException(where, "layout fingerprint " + HexFormat.of().formatHex(fp) + " (expected: "
                    + fingerprintHex + ", written for another KV layout)");
        }
        return new Header(ChunkKey.of(key), parent, tokenCount, new Stored(codecId, logicalBytes, payloadBytes, payloadCrc), length);
    }

    /** {@code segment} itself when it is native or over a {@code byte[]}; else a {@code byte[]} copy of it. */
    public static MemorySegment nativeOrCopy(MemorySegment segment) {
        return segment.isNative() || segment.heapBase().orElse(null) instanceof byte[]
                ? segment
                : MemorySegment.ofArray(segment.toArray(ValueLayout.JAVA_BYTE));
    }

    /**
     * {@code segment} as byte buffers of at most 1 GiB each, views without a copy when the segment is
     * native or backed by a {@code byte[]} (a heap segment over another array type is copied once).
     */
    public static ByteBuffer[] byteBuffers(MemorySegment segment) {
        MemorySegment s = segment.isNative() || segment.heapBase().orElse(null) instanceof byte[]
                ? segment
                : MemorySegment.ofArray(segment.toArray(ValueLayout.JAVA_BYTE));
        int n = (int) ((s.byteSize() + MAX_SLICE_BYTES - 1) / MAX_SLICE_BYTES);
        ByteBuffer[] buffers = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            long off = (long) i * MAX_SLICE_BYTES;
            buffers[i] = s.asSlice(off, Math.min(MAX_SLICE_BYTES, s.byteSize() - off)).asByteBuffer();
        }
        return buffers;
    }

    /** CRC32C of the bytes of {@code segment}. */
    public static int crc32c(MemorySegment segment) {
        CRC32C crc = new CRC32C();
        for (ByteBuffer b : byteBuffers(segment)) {
            crc.update(b);
        }
        return (int) crc.getValue();
    }

    private static int crc32c(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }

    private static byte[] bytesField(ByteBuffer b, String what, int min, int headerLength, String where)
            throws CorruptChunkException {
        int n = b.getInt();
        if (n < min || n > MAX_KEY_BYTES || n > b.remaining() - 4) {
            throw new CorruptChunkException(where, what + " length " + n + " (expected: " + min + " to " + MAX_KEY_BYTES
                    + " within a header of " + headerLength + ")");
        }
        byte[] bytes = new byte[n];
        b.get(bytes);
        return bytes;
    }

    public static void readFully(FileChannel ch, ByteBuffer b, long position, Path file) throws IOException {
        long at = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, at);
            if (n < 0) {
                throw new CorruptChunkException(CorruptChunkException.diskFile(file), "torn file: ends at byte " + at + " (expected: "
                        + (at + b.remaining()) + " bytes or more)");
            }
            at += n;
        }
    }

    public static String hex(int crc) {
        return String.format("0x%08x", crc);
    }

    /**
     * A chunk's header, checked.
     *
     * @param key          the chunk's key
     * @param parentKey    key of the chunk before it, or empty
     * @param tokenCount   tokens the chunk covers, 0 when unknown
     * @param stored       how the payload is stored: codec, logical and stored lengths, checksum
     * @param headerBytes  length of the header (in a disk file, zeros follow it up to {@link #PAYLOAD_OFFSET})
     */
    public record Header(ChunkKey key, byte[] parentKey, int tokenCount, Stored stored, int headerBytes) {

        /** Length of the payload as stored. */
        public long payloadBytes() {
            return stored.payloadBytes();
        }

        /** CRC32C of the payload as stored. */
        public int payloadCrc() {
            return stored.payloadCrc();
        }

        /** 0 when the payload is the KV as it is, else the id of the codec that encoded it. */
        public int codecId() {
            return stored.codecId();
        }

        /** Length of the chunk's KV once decoded. */
        public long logicalBytes() {
            return stored.logicalBytes();
        }

        /** Length of the whole disk file: what the chunk costs against the tier's budget. */
        public long fileBytes() {
            return DiskChunkFormat.fileBytes(payloadBytes());
        }
    }
}
