package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.testing.FrameMutations.Field;
import org.lmcache4j.testing.FrameMutations.Mutated;
import org.lmcache4j.testing.ReferenceChunkFrames.ChunkHeader;
import org.lmcache4j.testing.ReferenceChunkFrames.PartTable;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.TierCodec;
import org.lmcache4j.testing.FrameMutations;
import org.lmcache4j.testing.PropertyCheck;
import org.lmcache4j.testing.PropertyCheck.Gen;
import org.lmcache4j.testing.ReferenceChunkFrames;
import org.lmcache4j.testing.ThreadAllocation;

/**
 * The remote tier's value decoder ({@link RemoteChunkFormat#decode} and {@link RemoteChunkFormat#assemble})
 * on valid, damaged and random headers and parts, of chunks stored raw or encoded (codec id and logical
 * length in the header): a header decodes exactly when {@link ReferenceChunkFrames} calls it valid, parts assemble only into the payload that was encoded, every failure is a
 * {@link CorruptChunkException}, and neither step allocates much more heap than the bytes it was given
 * and the payload it writes.
 */
class RemoteChunkDecoderPropertyTest {

    private static final String FP = "d4f6e32487754f6c";
    private static final byte[] FP_BYTES = HexFormat.of().parseHex(FP);
    private static final String WHERE = "remote tier test: chunk";
    /** Heap any step may allocate beyond what it is given and writes (small buffers, an exception's stack trace). */
    private static final long SLACK_BYTES = 256 << 10;
    private static final long LZ4_TABLE_BYTES = 20 << 10;

    @BeforeAll
    static void loadTheClassesOnce() throws Exception {
        // so that class loading and initialisation do not count as allocation of the first measured try
        for (boolean lz4 : new boolean[] {false, true}) {
            RemoteChunkFormat f = new RemoteChunkFormat(FP, 64, lz4);
            byte[] payload = new byte[200];
            Arrays.fill(payload, (byte) 1);
            RemoteChunkFormat.Encoded e = f.encode(key(1), MemorySegment.ofArray(payload), 1);
            RemoteChunkFormat.Header h = f.decode(e.header(), key(1), WHERE);
            f.assemble(h, e.parts(), MemorySegment.ofArray(new byte[200]), WHERE);
            byte[][] damaged = Arrays.stream(e.parts()).map(p -> new byte[p.length]).toArray(byte[][]::new);
            assertThrows(CorruptChunkException.class, () -> f.assemble(h, damaged, MemorySegment.ofArray(new byte[200]), WHERE));
            assertThrows(CorruptChunkException.class, () -> f.decode(new byte[1], key(1), WHERE));
        }
    }

    @Test
    void remoteValuesDecodeExactlyWhenValidAndAssembleOnlyIntoTheirPayload() {
        PropertyCheck.forAll("remote chunks: the payload of a valid value, else CorruptChunkException", 300, gen -> {
            int partBytes = gen.chance(0.2) ? gen.oneOf(1 << 16, 1 << 20, 1 << 24) : gen.between(1, 64);
            RemoteChunkFormat f = new RemoteChunkFormat(FP, partBytes, gen.chance(0.5));
            ChunkKey key = key(gen.between(0, 2));
            ChunkKey expected = gen.chance(0.85) ? key : gen.chance(0.5) ? null : key(gen.between(0, 2));
            byte[] payload = payload(gen);
            long writeId = gen.random().nextLong();

            // the payload as stored: the chunk itself, or (as far as the format can tell) a codec's encoding of one
            TierCodec.Encoded stored = gen.chance(0.3)
                    ? new TierCodec.Encoded(gen.between(1, 255), MemorySegment.ofArray(payload), gen.random().nextLong(0, 1L << 40))
                    : new TierCodec.Encoded(0, MemorySegment.ofArray(payload), payload.length);

            long before = ThreadAllocation.bytes();
            RemoteChunkFormat.Encoded e = f.encode(key, stored, writeId);
            long allocated = ThreadAllocation.bytes() - before;
            // lz4-java's compressor allocates a 16 KiB hash table per call: per part, whatever its size
            assertTrue(allocated < 4L * payload.length + LZ4_TABLE_BYTES * e.parts().length + SLACK_BYTES, "encode of " + payload.length + " bytes in parts of "
                    + partBytes + " allocated " + allocated + " bytes");
            assertEncoding(e, key, payload, writeId, partBytes);
            ChunkHeader written = ReferenceChunkFrames.decodeChunkHeader(e.header());
            assertEquals(stored.codecId(), written.codecId(), "codec id written");
            assertEquals(stored.logicalBytes(), written.logicalBytes(), "logical length written");

            // damage the header (its chunk header or its part table) and maybe the parts
            int chunkHeaderBytes = ReferenceChunkFrames.intAt(e.header(), 12);
            Mutated m = gen.chance(0.3) ? new Mutated(e.header(), "header untouched") : gen.chance(0.5)
                    ? FrameMutations.mutate(gen, e.header(), FrameMutations.chunkHeaderFields(e.header()), 0, chunkHeaderBytes)
                    : FrameMutations.mutate(gen, e.header(), tableFields(e.header(), chunkHeaderBytes), chunkHeaderBytes,
                            e.header().length - chunkHeaderBytes);
            byte[] header = m.bytes();
            String[] partsWhat = {"parts untouched"};
            byte[][] parts = gen.chance(0.3) ? mutateParts(gen, e.parts(), partsWhat) : e.parts();
            String what = m.what() + "; " + partsWhat[0];

            ChunkHeader ch = ReferenceChunkFrames.decodeChunkHeader(header);
            boolean chunkOk = ch != null && Arrays.equals(ch.fingerprint(), FP_BYTES)
                    && (expected == null || Arrays.equals(ch.key(), expected.toBytes()));
            PartTable table = chunkOk ? ReferenceChunkFrames.decodePartTable(header, ch.headerBytes(), ch.payloadBytes()) : null;

            before = ThreadAllocation.bytes();
            RemoteChunkFormat.Header h;
            try {
                h = f.decode(header, expected, WHERE);
            } catch (CorruptChunkException ex) {
                assertTrue(table == null, "decode refused a valid header: " + what + ": " + ex.getMessage());
                assertTrue(ex.getMessage().startsWith(WHERE + ": "), ex.getMessage());
                return;
            } finally {
                allocated = ThreadAllocation.bytes() - before;
                assertTrue(allocated < 8L * header.length + SLACK_BYTES, "decode allocated " + allocated + ": " + what);
            }
            assertNotNull(table, "decode accepted: " + what);
            assertArrayEquals(ch.key(), h.chunk().key().toBytes(), "key");
            assertEquals(ch.payloadBytes(), h.payloadBytes(), "payload length");
            assertEquals(ch.payloadCrc(), h.chunk().payloadCrc(), "payload checksum");
            assertEquals(ch.codecId(), h.kvCodecId(), "codec id");
            assertEquals(ch.logicalBytes(), h.logicalBytes(), "logical length");
            assertEquals(table.codec(), h.codec(), "codec");
            assertEquals(table.writeId(), h.writeId(), "write id");
            assertEquals(table.partBytes(), h.partBytes(), "part bytes");
            assertArrayEquals(table.storedBytes(), h.storedBytes(), "stored lengths");

            // assemble as the tier does: one value per part of the header, into the payload's length
            byte[][] given = Arrays.copyOf(parts, h.parts());
            for (int i = parts.length; i < given.length; i++) {
                given[i] = gen.bytes(gen.between(1, 8));
            }
            if (h.payloadBytes() > 64L << 20) {
                return; // a consistent table this large needs a header of many parts: not drawn here
            }
            boolean lengthsOk = true;
            for (int i = 0; i < given.length; i++) {
                lengthsOk &= given[i].length == h.storedBytes()[i];
            }
            boolean pristine = Arrays.equals(header, e.header()) && parts == e.parts();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment dst = arena.allocate(Math.max(1, h.payloadBytes())).asSlice(0, h.payloadBytes());
                before = ThreadAllocation.bytes();
                try {
                    f.assemble(h, given, dst, WHERE);
                    assertTrue(lengthsOk, "assemble accepted parts of other lengths: " + what);
                    assertArrayEquals(payload, dst.toArray(ValueLayout.JAVA_BYTE), "assembled: " + what);
                } catch (CorruptChunkException ex) {
                    assertTrue(!pristine, "assemble refused a valid chunk: " + ex.getMessage());
                    if (h.codec() == RemoteChunkFormat.CODEC_NONE && lengthsOk) {
                        assertTrue(ReferenceChunkFrames.crc32c(concat(given), 0, (int) h.payloadBytes()) != h.chunk().payloadCrc(),
                                "assemble refused stored parts of the right checksum: " + what + ": " + ex.getMessage());
                    }
                } finally {
                    allocated = ThreadAllocation.bytes() - before;
                    assertTrue(allocated < 2 * h.payloadBytes() + SLACK_BYTES, "assemble of " + h.payloadBytes()
                            + " bytes in parts of " + h.partBytes() + " allocated " + allocated + ": " + what);
                }
            }
        });
    }

    @Test
    void aPartTableClaimingATebibyteFailsFast() {
        RemoteChunkFormat f = new RemoteChunkFormat(FP, 1 << 20, true);
        byte[] chunk = ReferenceChunkFrames.chunkHeader(FP_BYTES, key(1).toBytes(), new byte[0], 0, 1L << 40, 0);
        for (int parts : new int[] {0, 1, 2}) {
            byte[] table = ReferenceChunkFrames.partTable(RemoteChunkFormat.CODEC_LZ4, 7, Integer.MAX_VALUE, new int[parts]);
            assertThrows(CorruptChunkException.class, () -> f.decode(concat(new byte[][] {chunk, table}), key(1), WHERE));
        }
    }

    private static void assertEncoding(RemoteChunkFormat.Encoded e, ChunkKey key, byte[] payload, long writeId, int partBytes) {
        ChunkHeader ch = ReferenceChunkFrames.decodeChunkHeader(e.header());
        assertNotNull(ch, "the chunk header is valid");
        assertArrayEquals(key.toBytes(), ch.key());
        assertEquals(payload.length, ch.payloadBytes());
        assertEquals(ReferenceChunkFrames.crc32c(payload, 0, payload.length), ch.payloadCrc());
        PartTable t = ReferenceChunkFrames.decodePartTable(e.header(), ch.headerBytes(), payload.length);
        assertNotNull(t, "the part table is valid");
        assertEquals(writeId, t.writeId());
        assertEquals(partBytes, t.partBytes());
        assertArrayEquals(Arrays.stream(e.parts()).mapToInt(p -> p.length).toArray(), t.storedBytes());
        assertEquals(Arrays.stream(e.parts()).mapToLong(p -> p.length).sum(), e.storedBytes());
    }

    /** Random, or runs of a few repeated bytes (which LZ4 shrinks). */
    private static byte[] payload(Gen gen) {
        byte[] b = gen.bytes(gen.chance(0.05) ? gen.between(64 << 10, 300 << 10) : gen.size(1500));
        if (gen.chance(0.5)) {
            int period = gen.between(1, 4);
            for (int i = period; i < b.length; i++) {
                if (!gen.chance(0.01)) {
                    b[i] = b[i - period];
                }
            }
        }
        return b;
    }

    private static Field[] tableFields(byte[] header, int from) {
        int n = ReferenceChunkFrames.intAt(header, from + 28);
        Field[] fields = {
            new Field("table version", from + 8, 4),
            new Field("codec", from + 12, 4),
            new Field("write id", from + 16, 8),
            new Field("part bytes", from + 24, 4),
            new Field("part count", from + 28, 4),
            new Field("stored length of a part", from + 32 + 4 * (n == 0 ? 0 : Math.floorMod(header.length, n)), 4),
        };
        return n == 0 ? Arrays.copyOf(fields, 5) : fields;
    }

    private static byte[][] mutateParts(Gen gen, byte[][] parts, String[] what) {
        byte[][] p = Arrays.stream(parts).map(byte[]::clone).toArray(byte[][]::new);
        if (p.length == 0) {
            return p;
        }
        int i = gen.between(0, p.length - 1);
        switch (gen.between(0, 4)) {
            case 0 -> {
                if (p[i].length > 0) {
                    int bit = gen.between(0, 8 * p[i].length - 1);
                    p[i][bit / 8] ^= (byte) (1 << (bit % 8));
                }
                what[0] = "bit flipped in part " + i;
            }
            case 1 -> {
                p[i] = Arrays.copyOf(p[i], gen.between(0, Math.max(0, p[i].length - 1)));
                what[0] = "part " + i + " truncated";
            }
            case 2 -> {
                p[i] = Arrays.copyOf(p[i], p[i].length + gen.between(1, 16));
                what[0] = "part " + i + " extended";
            }
            case 3 -> {
                int j = gen.between(0, p.length - 1);
                byte[] x = p[i];
                p[i] = p[j];
                p[j] = x;
                what[0] = "parts " + i + " and " + j + " swapped";
            }
            default -> {
                p[i] = gen.bytes(p[i].length);
                what[0] = "part " + i + " replaced by random bytes";
            }
        }
        return p;
    }

    private static byte[] concat(byte[][] parts) {
        byte[] all = new byte[Arrays.stream(parts).mapToInt(p -> p.length).sum()];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
