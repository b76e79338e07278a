package org.lmcache4j.redis;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.storage.tier.TierCodec;

/**
 * How the {@code remote} tier stores one chunk: a header, kept in the namespace's index, and the payload
 * cut into parts of {@code partBytes} (the last one shorter), each a Redis string of its own. The payload
 * is the chunk as stored: its KV as the engine holds it (codec id 0), or a {@link TierCodec}'s encoding of it.
 *
 * <p>The header is the {@code disk} tier's chunk header ({@link DiskChunkFormat}: magic, version, layout
 * fingerprint, key, codec id, logical length, stored payload length, CRC32C of the whole payload as stored
 * (encoded, not LZ4-compressed), CRC32C of the header) followed by a part table, integers little-endian:
 * <pre>
 *  offset  size  field
 *       0     8  magic "LMC4JRP\0"
 *       8     4  part table version (1)
 *      12     4  codec: 0 = parts stored as they are, 1 = LZ4 block format, each part on its own
 *      16     8  write id: names the parts of this copy (see RemoteKeys)
 *      24     4  part bytes: the uncompressed length of every part but the last
 *      28     4  part count n = ceil(payload length / part bytes)
 *      32    4n  stored length of each part; with LZ4, a part that would not shrink is stored as it is,
 *                and its stored length equals its uncompressed length; a compressed part is at least
 *                1/255 of its uncompressed length (LZ4 expands no byte further)
 *  32+4n     4  CRC32C of every table byte before this field
 * </pre>
 * Reading checks both headers whole, then each part's stored length, then decompresses, then the CRC32C
 * of the reassembled payload: a chunk's stored bytes are served exactly as put or not at all (decoding an
 * encoded payload is the tier's next step, {@link TierCodec#decode}). LZ4 here compresses parts of a chunk
 * stored raw; the tier never combines it with a codec ({@link RemoteUrl}).
 */
final class RemoteChunkFormat {

    static final byte[] TABLE_MAGIC = "LMC4JRP\0".getBytes(StandardCharsets.US_ASCII);
    static final int TABLE_VERSION = 1;
    static final int CODEC_NONE = 0;
    static final int CODEC_LZ4 = 1;

    private static final int TABLE_FIXED_BYTES = 36;
    /**
     * Most bytes one byte of an LZ4 block can decompress to: a sequence's match length grows by at most
     * 255 per byte, and literals are copied one for one. A part claiming more is not LZ4.
     */
    static final int LZ4_MAX_EXPANSION = 255;
    private static final LZ4Factory LZ4 = LZ4Factory.safeInstance(); // pure Java: no JNI library, no Unsafe

    private final DiskChunkFormat disk;
    private final int partBytes;
    private final boolean lz4;
    private final LZ4Compressor compressor = LZ4.fastCompressor();
    private final LZ4SafeDecompressor decompressor = LZ4.safeDecompressor();

    /**
     * @param layoutFingerprint {@code KvLayout.fingerprint()} written into and required of every header
     * @param partBytes         uncompressed bytes per part
     * @param lz4               compress the parts written (parts read are decoded whatever their codec)
     */
    RemoteChunkFormat(String layoutFingerprint, int partBytes, boolean lz4) {
        if (partBytes <= 0) {
            throw new IllegalArgumentException("partBytes: " + partBytes + " (expected: > 0)");
        }
        this.disk = new DiskChunkFormat(layoutFingerprint);
        this.partBytes = partBytes;
        this.lz4 = lz4;
    }

    /** A chunk ready to be written: its header and its parts' values. */
    record Encoded(byte[] header, byte[][] parts, long storedBytes) {
    }

    /** A checked header: the chunk header and the part table. */
    record Header(DiskChunkFormat.Header chunk, int codec, long writeId, int partBytes, int[] storedBytes) {

        int parts() {
            return storedBytes.length;
        }

        /** Length of the payload as stored (encoded or not), before LZ4. */
        long payloadBytes() {
            return chunk.payloadBytes();
        }

        /** The KV codec id of the stored payload (0: the KV as it is); not the parts' {@link #codec()}. */
        int kvCodecId() {
            return chunk.codecId();
        }

        /** Length of the chunk's KV once decoded: what a read writes into its target. */
        long logicalBytes() {
            return chunk.logicalBytes();
        }

        /** Uncompressed length of part {@code i}. */
        int rawBytes(int i) {
            return (int) Math.min(partBytes, chunk.payloadBytes() - (long) i * partBytes);
        }
    }

    /** Number of parts of a payload of {@code payloadBytes}. */
    int partsOf(long payloadBytes) {
        return Math.toIntExact((payloadBytes + partBytes - 1) / partBytes);
    }

    /** Cuts {@code payload}, stored raw, into parts (compressed if asked and worth it) and builds its header. */
    Encoded encode(ChunkKey key, MemorySegment payload, long writeId) {
        return encode(key, new TierCodec.Encoded(0, payload, payload.byteSize()), writeId);
    }

    /**
     * Cuts the stored bytes of {@code chunk} into parts (compressed if asked and worth it) and builds its
     * header, which records the chunk's codec id and logical length.
     */
    Encoded encode(ChunkKey key, TierCodec.Encoded chunk, long writeId) {
        MemorySegment payload = chunk.bytes();
        long size = payload.byteSize();
        int n = partsOf(size);
        byte[][] parts = new byte[n][];
        int[] stored = new int[n];
        long storedTotal = 0;
        CRC32C crc = new CRC32C();
        // sized by the largest part of this payload, not by partBytes, which may be far larger than a chunk
        byte[] scratch = lz4 && n > 0 ? new byte[compressor.maxCompressedLength((int) Math.min(partBytes, size))] : null;
        for (int i = 0; i < n; i++) {
            long off = (long) i * partBytes;
            int raw = (int) Math.min(partBytes, size - off);
            byte[] part = new byte[raw];
            MemorySegment.copy(payload, ValueLayout.JAVA_BYTE, off, part, 0, raw);
            crc.update(part, 0, raw);
            if (lz4) {
                int c = compressor.compress(part, 0, raw, scratch, 0, scratch.length);
                if (c < raw) {
                    part = Arrays.copyOf(scratch, c);
                }
            }
            parts[i] = part;
            stored[i] = part.length;
            storedTotal += part.length;
        }
        DiskChunkFormat.Stored how = new DiskChunkFormat.Stored(chunk.codecId(), chunk.logicalBytes(), size, (int) crc.getValue());
        return new Encoded(header(key, how, writeId, lz4 ? CODEC_LZ4 : CODEC_NONE, stored), parts, storedTotal);
    }

    /** True when parts are written compressed ({@link #encode}); else they are the payload's bytes as they are. */
    boolean compresses() {
        return lz4;
    }

    /** Uncompressed bytes per part. */
    int partBytes() {
        return partBytes;
    }

    /**
     * The header of a payload of {@code size} bytes with checksum {@code payloadCrc} (CRC32C), written
     * uncompressed as parts of {@link #partBytes()} by a writer of its own ({@link #encode} does both).
     */
    byte[] plainHeader(ChunkKey key, long size, int payloadCrc, long writeId) {
        return plainHeader(key, new DiskChunkFormat.Stored(0, size, size, payloadCrc), writeId);
    }

    /**
     * The header of a chunk stored as {@code how} (codec id, logical length, stored length and its CRC32C),
     * its stored bytes written uncompressed as parts of {@link #partBytes()} by a writer of its own.
     */
    byte[] plainHeader(ChunkKey key, DiskChunkFormat.Stored how, long writeId) {
        long size = how.payloadBytes();
        int n = partsOf(size);
        int[] stored = new int[n];
        for (int i = 0; i < n; i++) {
            stored[i] = (int) Math.min(partBytes, size - (long) i * partBytes);
        }
        return header(key, how, writeId, CODEC_NONE, stored);
    }

    private byte[] header(ChunkKey key, DiskChunkFormat.Stored how, long writeId, int codec, int[] stored) {
        int n = stored.length;
        ByteBuffer chunkHeader = disk.encodeHeader(key, new byte[0], 0, how);
        ByteBuffer table = ByteBuffer.allocate(TABLE_FIXED_BYTES + 4 * n).order(ByteOrder.LITTLE_ENDIAN);
        table.put(TABLE_MAGIC).putInt(TABLE_VERSION).putInt(codec).putLong(writeId)
                .putInt(partBytes).putInt(n);
        for (int s : stored) {
            table.putInt(s);
        }
        table.putInt(crc32c(table.array(), table.position()));
        byte[] header = new byte[chunkHeader.remaining() + table.capacity()];
        chunkHeader.get(header, 0, chunkHeader.remaining());
        System.arraycopy(table.array(), 0, header, header.length - table.capacity(), table.capacity());
        return header;
    }

    /**
     * Decodes and checks a stored header.
     *
     * @param expected the key it must name, or null for any
     * @param where    names the chunk in error messages
     * @throws CorruptChunkException when it is truncated, corrupt, foreign or names another key
     */
    Header decode(byte[] header, ChunkKey expected, String where) throws CorruptChunkException {
        ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        DiskChunkFormat.Header chunk = disk.decodeHeader(b, where);
        if (expected != null && !chunk.key().equals(expected)) {
            throw new CorruptChunkException(where, "header of key " + chunk.key() + " (expected: " + expected + ")");
        }
        ByteBuffer t = b.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (t.remaining() < TABLE_FIXED_BYTES) {
            throw new CorruptChunkException(where, "part table of " + t.remaining() + " bytes (expected: at least "
                    + TABLE_FIXED_BYTES + ")");
        }
        byte[] magic = new byte[TABLE_MAGIC.length];
        t.get(magic);
        if (!Arrays.equals(magic, TABLE_MAGIC)) {
            throw new CorruptChunkException(where, "part table magic " + HexFormat.of().formatHex(magic) + " (expected: "
                    + HexFormat.of().formatHex(TABLE_MAGIC) + ")");
        }
        int version = t.getInt();
        int codec = t.getInt();
        long writeId = t.getLong();
        int part = t.getInt();
        int n = t.getInt();
        if (n < 0 || t.remaining() != 4L * n + 4) {
            throw new CorruptChunkException(where, "part table of " + t.capacity() + " bytes for " + n + " parts (expected: "
                    + (TABLE_FIXED_BYTES + 4L * Math.max(0, n)) + ")");
        }
        int storedCrc = t.getInt(t.capacity() - 4);
        byte[] tableBytes = new byte[t.capacity() - 4];
        t.get(0, tableBytes);
        int actualCrc = crc32c(tableBytes, tableBytes.length);
        if (storedCrc != actualCrc) {
            throw new CorruptChunkException(where, String.format("part table checksum mismatch (stored 0x%08x, computed 0x%08x)",
                    storedCrc, actualCrc));
        }
        if (version != TABLE_VERSION || codec != CODEC_NONE && codec != CODEC_LZ4) {
            throw new CorruptChunkException(where, "part table version " + version + ", codec " + codec + " (expected: version "
                    + TABLE_VERSION + ", codec 0 or 1)");
        }
        if (part <= 0 || (chunk.payloadBytes() + part - 1) / part != n) {
            throw new CorruptChunkException(where, n + " parts of " + part + " bytes for a payload of " + chunk.payloadBytes()
                    + " bytes (expected: ceil(payload / part bytes) parts)");
        }
        int[] stored = new int[n];
        Header h = new Header(chunk, codec, writeId, part, stored);
        for (int i = 0; i < n; i++) {
            stored[i] = t.getInt();
            int raw = h.rawBytes(i);
            if (stored[i] <= 0 || stored[i] > raw || codec == CODEC_NONE && stored[i] != raw) {
                throw new CorruptChunkException(where, "part " + i + " stored as " + stored[i] + " bytes (expected: "
                        + (codec == CODEC_NONE ? "" : "1 to ") + raw + ")");
            }
            if (raw > (long) LZ4_MAX_EXPANSION * stored[i]) {
                throw new CorruptChunkException(where, "part " + i + " of " + raw + " bytes stored as " + stored[i]
                        + " (expected: at least " + Math.ceilDiv(raw, LZ4_MAX_EXPANSION) + ", what LZ4 can expand)");
            }
        }
        return h;
    }

    /**
     * Checks that {@code parts}, as read back for {@code header}, have the lengths its part table lists;
     * then the payload length it claims is at most {@value #LZ4_MAX_EXPANSION} times the bytes read, and
     * may be allocated.
     *
     * @throws CorruptChunkException when a part has another length
     */
    void checkParts(Header header, byte[][] parts, String where) throws CorruptChunkException {
        for (int i = 0; i < header.parts(); i++) {
            if (parts[i].length != header.storedBytes()[i]) {
                throw new CorruptChunkException(where, "part " + i + " has " + parts[i].length + " bytes (expected: "
                        + header.storedBytes()[i] + ")");
            }
        }
    }

    /**
     * Writes the payload of {@code parts}, as read back for {@code header}, into {@code dst} (exactly the
     * stored payload's length: for an encoded chunk, its encoding) and checks it against the header's checksum.
     *
     * @throws CorruptChunkException when a part has another length, does not decompress to its length,
     *                               or the payload's checksum differs
     */
    void assemble(Header header, byte[][] parts, MemorySegment dst, String where) throws CorruptChunkException {
        checkParts(header, parts, where);
        byte[] scratch = null;
        CRC32C crc = new CRC32C();
        for (int i = 0; i < header.parts(); i++) {
            byte[] part = parts[i];
            int raw = header.rawBytes(i);
            byte[] plain = part;
            if (part.length < raw) { // compressed: decode() allowed this only for LZ4
                if (scratch == null) {
                    // part 0 is the largest: the part size a header announces may be far larger than its payload
                    scratch = new byte[header.rawBytes(0)];
                }
                int got;
                try {
                    got = decompressor.decompress(part, 0, part.length, scratch, 0, raw);
                } catch (LZ4Exception | IndexOutOfBoundsException e) { // the pure-Java decoder may index past a bad stream's claims
                    throw new CorruptChunkException(where, "part " + i + " does not decompress: " + e.getMessage());
                }
                if (got != raw) {
                    throw new CorruptChunkException(where, "part " + i + " decompresses to " + got + " bytes (expected: " + raw + ")");
                }
                plain = scratch;
            }
            crc.update(plain, 0, raw);
            MemorySegment.copy(plain, 0, dst, ValueLayout.JAVA_BYTE, (long) i * header.partBytes(), raw);
        }
        int actual = (int) crc.getValue();
        if (actual != header.chunk().payloadCrc()) {
            throw new CorruptChunkException(where, String.format("payload checksum mismatch (stored 0x%08x, computed 0x%08x)",
                    header.chunk().payloadCrc(), actual));
        }
    }

    private static int crc32c(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}
