package org.lmcache4j.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The chunk header and the remote part table, encoded and decoded straight from the tables in the class
 * comments of {@code DiskChunkFormat} and {@code RemoteChunkFormat}, for property tests to compare the
 * real decoders with. Decoders here return null for anything that is not a valid encoding.
 */
public final class ReferenceChunkFrames {

    public static final byte[] MAGIC = "LMC4JKV\0".getBytes(StandardCharsets.US_ASCII);
    public static final byte[] TABLE_MAGIC = "LMC4JRP\0".getBytes(StandardCharsets.US_ASCII);

    /** Offsets of the fields after the key and parent, from the header's end. */
    public static final int TOKENS_FROM_END = 20;
    public static final int PAYLOAD_LENGTH_FROM_END = 16;
    public static final int PAYLOAD_CRC_FROM_END = 8;

    private ReferenceChunkFrames() {
    }

    /** A decoded chunk header; codec id 0 and logical length = payload length in the versions before codecs. */
    public record ChunkHeader(byte[] fingerprint, byte[] key, byte[] parent, int tokenCount, long payloadBytes, int payloadCrc,
            int headerBytes, int codecId, long logicalBytes) {
    }

    /** A decoded part table. */
    public record PartTable(int codec, long writeId, int partBytes, int[] storedBytes, int tableBytes) {
    }

    /** Where a disk file's payload starts: the header, then zeros up to here. */
    public static final int FILE_PAYLOAD_OFFSET = 4096;
    /** The disk file version written now, with codec id and logical length; the one before (2) had neither. */
    public static final int FILE_VERSION = 3;
    /** The in-memory (remote) header version written now; the one before (1) had no codec fields. */
    public static final int FRAME_VERSION = 2;

    /** A chunk header as a remote value holds a chunk stored raw (version 1, as before codecs). */
    public static byte[] chunkHeader(byte[] fingerprint, byte[] key, byte[] parent, int tokenCount, long payloadBytes, int payloadCrc) {
        return rawHeader(1, fingerprint, key, parent, tokenCount, payloadBytes, payloadCrc);
    }

    /** A whole disk file of a chunk stored raw (version 2, as before codecs): the header, zeros up to offset 4096, the payload. */
    public static byte[] chunkFile(byte[] fingerprint, byte[] key, byte[] parent, int tokenCount, byte[] payload) {
        return chunkFile(rawHeader(2, fingerprint, key, parent, tokenCount, payload.length, crc32c(payload, 0, payload.length)),
                payload);
    }

    /** A whole disk file of an encoded chunk (version 3): the header, zeros up to offset 4096, the stored bytes. */
    public static byte[] encodedChunkFile(byte[] fingerprint, byte[] key, byte[] parent, int codecId, long logicalBytes, int tokenCount,
                                          byte[] stored) {
        return chunkFile(codecHeader(FILE_VERSION, fingerprint, key, parent, codecId, logicalBytes, tokenCount, stored.length,
                crc32c(stored, 0, stored.length)), stored);
    }

    private static byte[] chunkFile(byte[] header, byte[] payload) {
        byte[] file = Arrays.copyOf(header, FILE_PAYLOAD_OFFSET + payload.length);
        System.arraycopy(payload, 0, file, FILE_PAYLOAD_OFFSET, payload.length);
        return file;
    }

    /** A header of the layout before codecs (52 + key + parent bytes) under any version number. */
    public static byte[] rawHeader(int version, byte[] fingerprint, byte[] key, byte[] parent, int tokenCount, long payloadBytes,
                                   int payloadCrc) {
        int length = 52 + key.length + parent.length;
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(version).putInt(length).put(fingerprint).putInt(key.length).put(key).putInt(parent.length).put(parent)
                .putInt(tokenCount).putLong(payloadBytes).putInt(payloadCrc);
        b.putInt(crc32c(b.array(), 0, length - 4));
        return b.array();
    }

    /** A header of the layout with codec id and logical length (64 + key + parent bytes) under any version number. */
    public static byte[] codecHeader(int version, byte[] fingerprint, byte[] key, byte[] parent, int codecId, long logicalBytes,
                                     int tokenCount, long payloadBytes, int payloadCrc) {
        int length = 64 + key.length + parent.length;
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(version).putInt(length).put(fingerprint).putInt(key.length).put(key).putInt(parent.length).put(parent)
                .putInt(codecId).putLong(logicalBytes).putInt(tokenCount).putLong(payloadBytes).putInt(payloadCrc);
        b.putInt(crc32c(b.array(), 0, length - 4));
        return b.array();
    }

    /** The in-memory header (version 2, or 1 before codecs) at the start of {@code b}, or null unless whole and valid (any fingerprint). */
    public static ChunkHeader decodeChunkHeader(byte[] b) {
        return decode(b, FRAME_VERSION, 1);
    }

    /**
     * The header of the disk file {@code b}, or null unless it is a whole, valid version 3 (or 2, before
     * codecs) header (any fingerprint) followed by zeros up to offset 4096 (the payload is not checked).
     */
    public static ChunkHeader decodeFileHeader(byte[] b) {
        ChunkHeader h = decode(b, FILE_VERSION, 2);
        if (h == null || b.length < FILE_PAYLOAD_OFFSET) {
            return null;
        }
        for (int i = h.headerBytes(); i < FILE_PAYLOAD_OFFSET; i++) {
            if (b[i] != 0) {
                return null;
            }
        }
        return h;
    }

    /** The header at the start of {@code b} of version {@code codecVersion} or {@code rawVersion}, or null unless whole and valid. */
    private static ChunkHeader decode(byte[] b, int codecVersion, int rawVersion) {
        if (b.length < 16 || !Arrays.equals(b, 0, 8, MAGIC, 0, 8)) {
            return null;
        }
        int version = intAt(b, 8);
        if (version != codecVersion && version != rawVersion) {
            return null;
        }
        int fixed = version == codecVersion ? 64 : 52;
        int length = intAt(b, 12);
        if (length < fixed + 16 || length > fixed + 64 + 64 || b.length < length || intAt(b, length - 4) != crc32c(b, 0, length - 4)) {
            return null;
        }
        int k = intAt(b, 24);
        if (k < 16 || k > 64 || 28 + k + 4 > length) {
            return null;
        }
        int p = intAt(b, 28 + k);
        if (p < 0 || p > 64 || length != fixed + k + p) {
            return null;
        }
        int end = length;
        int tokens = intAt(b, end - TOKENS_FROM_END);
        long payload = longAt(b, end - PAYLOAD_LENGTH_FROM_END);
        int codec = fixed == 64 ? intAt(b, 32 + k + p) : 0;
        long logical = fixed == 64 ? longAt(b, 36 + k + p) : payload;
        if (tokens < 0 || payload < 0 || logical < 0 || codec < 0 || codec > 255 || codec == 0 && logical != payload
                || codec != 0 && payload >= logical) {
            return null;
        }
        return new ChunkHeader(Arrays.copyOfRange(b, 16, 24), Arrays.copyOfRange(b, 28, 28 + k),
                Arrays.copyOfRange(b, 32 + k, 32 + k + p), tokens, payload, intAt(b, end - PAYLOAD_CRC_FROM_END), length, codec, logical);
    }

    public static byte[] partTable(int codec, long writeId, int partBytes, int[] stored) {
        ByteBuffer b = ByteBuffer.allocate(36 + 4 * stored.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(TABLE_MAGIC).putInt(1).putInt(codec).putLong(writeId).putInt(partBytes).putInt(stored.length);
        for (int s : stored) {
            b.putInt(s);
        }
        b.putInt(crc32c(b.array(), 0, b.capacity() - 4));
        return b.array();
    }

    /** The part table filling {@code b} from {@code from} to its end, or null unless valid for the payload length. */
    public static PartTable decodePartTable(byte[] b, int from, long payloadBytes) {
        int length = b.length - from;
        if (length < 36 || !Arrays.equals(b, from, from + 8, TABLE_MAGIC, 0, 8) || intAt(b, from + 8) != 1) {
            return null;
        }
        int codec = intAt(b, from + 12);
        int part = intAt(b, from + 24);
        int n = intAt(b, from + 28);
        if (codec != 0 && codec != 1 || part <= 0 || n < 0 || length != 36 + 4L * n
                || intAt(b, b.length - 4) != crc32c(b, from, length - 4)) {
            return null;
        }
        // n = ceil(payload / part), in exact arithmetic
        if (java.math.BigInteger.valueOf(payloadBytes).add(java.math.BigInteger.valueOf(part - 1L))
                .divide(java.math.BigInteger.valueOf(part)).compareTo(java.math.BigInteger.valueOf(n)) != 0) {
            return null;
        }
        int[] stored = new int[n];
        for (int i = 0; i < n; i++) {
            stored[i] = intAt(b, from + 32 + 4 * i);
            long raw = Math.min(part, payloadBytes - (long) i * part);
            if (stored[i] <= 0 || stored[i] > raw || codec == 0 && stored[i] != raw || raw > 255L * stored[i]) {
                return null;
            }
        }
        return new PartTable(codec, longAt(b, from + 16), part, stored, length);
    }

    public static int crc32c(byte[] b, int from, int length) {
        CRC32C crc = new CRC32C();
        crc.update(b, from, length);
        return (int) crc.getValue();
    }

    public static int intAt(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
    }

    public static long longAt(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(at);
    }

    public static void putInt(byte[] b, int at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
    }

    public static void putLong(byte[] b, int at, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
    }

    /** Rewrites the checksum that ends the frame {@code b[from, from + length)}, so a field edit passes it. */
    public static void fixChecksum(byte[] b, int from, int length) {
        if (from >= 0 && length >= 4 && from + length <= b.length) {
            putInt(b, from + length - 4, crc32c(b, from, length - 4));
        }
    }
}
