package org.lmcache4j.storage.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.OptionalInt;
import java.util.zip.CRC32C;
import org.lmcache4j.api.KvLayout;

/**
 * The record stored beside a segment's KV chunks: the position its KV was computed at. It is stored as a chunk
 * of whole tokens of the connector's layout, so every tier and codec takes it as it takes KV:
 *
 * <pre>
 * [0, 8)    0xFF bytes: NaN in every float dtype, so a lossy codec stores the record raw (KvCodec's contract)
 * [8, 16)   "LMCSEG01"
 * [16, 20)  position, little-endian int32
 * [20, 24)  segment length in tokens
 * [24, 28)  CRC32C of bytes [8, 24)
 * the rest  zeros, to whole tokens
 * </pre>
 *
 * A record that does not parse (another format, bit rot that passed a tier, the wrong length) reads as absent.
 */
final class SegmentManifest {

    private static final long MAGIC = 0x31305345_47434D4CL; // "LMCSEG01" read little-endian
    private static final int RECORD_BYTES = 28;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SegmentManifest() {
    }

    /** Tokens of {@code layout} one record takes. */
    static int tokens(KvLayout layout) {
        return Math.ceilDiv(RECORD_BYTES, layout.bytesPerToken());
    }

    /** The record of a segment of {@code length} tokens computed from {@code position}, {@code tokens(layout)} tokens long. */
    static MemorySegment write(KvLayout layout, int position, int length) {
        MemorySegment m = MemorySegment.ofArray(new byte[Math.toIntExact(layout.chunkBytes(tokens(layout)))]);
        m.set(LONG, 0, -1L);
        m.set(LONG, 8, MAGIC);
        m.set(INT, 16, position);
        m.set(INT, 20, length);
        m.set(INT, 24, crc(m));
        return m;
    }

    /** The position a record names, for a segment of {@code length} tokens; empty when {@code bytes} is not such a record. */
    static OptionalInt read(MemorySegment bytes, KvLayout layout, int length) {
        if (bytes.byteSize() != layout.chunkBytes(tokens(layout))
                || bytes.get(LONG, 8) != MAGIC || bytes.get(INT, 24) != crc(bytes)
                || bytes.get(INT, 20) != length || bytes.get(INT, 16) < 0) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(bytes.get(INT, 16));
    }

    private static int crc(MemorySegment m) {
        CRC32C crc = new CRC32C();
        crc.update(m.asSlice(8, 16).asByteBuffer());
        return (int) crc.getValue();
    }
}
