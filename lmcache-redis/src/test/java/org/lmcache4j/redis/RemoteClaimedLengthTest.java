package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.testing.ReferenceChunkFrames;

/**
 * Regression (found while writing {@link RemoteChunkDecoderPropertyTest}): the remote tier allocated the
 * payload length a stored header claims before checking it against the parts it had read, so a header
 * with valid checksums claiming 1 TiB in parts of one byte (uncompressed parts of another length, or LZ4
 * parts no LZ4 block can expand to) ended a get in OutOfMemoryError instead of a miss.
 */
class RemoteClaimedLengthTest {

    private static final String FP = RemoteTierContractTest.FINGERPRINT;
    private static final long CLAIMED_BYTES = 1L << 40;
    private static final int CLAIMED_PART_BYTES = Integer.MAX_VALUE;

    @RegisterExtension
    static final LocalRedis redis = new LocalRedis(16384);

    @ParameterizedTest(name = "codec {0}")
    @ValueSource(ints = {RemoteChunkFormat.CODEC_NONE, RemoteChunkFormat.CODEC_LZ4})
    void aHeaderClaimingATebibyteOfOneBytePartsIsAMissNotAnOutOfMemoryError(int codec) {
        try (RemoteTier t = redis.tier("claimed-" + codec, "")) {
            ChunkKey key = key(1);
            assertTrue(t.put(key, MemorySegment.ofArray(payload(1, 100))));
            int parts = (int) ((CLAIMED_BYTES + CLAIMED_PART_BYTES - 1) / CLAIMED_PART_BYTES);
            int[] stored = new int[parts];
            for (int i = 0; i < parts; i++) {
                long rawBytes = Math.min(CLAIMED_PART_BYTES, CLAIMED_BYTES - (long) i * CLAIMED_PART_BYTES);
                stored[i] = codec == RemoteChunkFormat.CODEC_NONE ? (int) rawBytes : 1;
            }
            byte[] chunk = ReferenceChunkFrames.chunkHeader(HexFormat.of().parseHex(FP), key.toBytes(), new byte[0], 0,
                    CLAIMED_BYTES, 0);
            byte[] table = ReferenceChunkFrames.partTable(codec, 77, CLAIMED_PART_BYTES, stored);
            byte[] header = java.util.Arrays.copyOf(chunk, chunk.length + table.length);
            System.arraycopy(table, 0, header, chunk.length, table.length);
            redis.raw().hset(t.keys().indexKeys().get(1), RemoteKeys.member(key), header);
            for (byte[] part : t.keys().parts(key, 77, parts)) {
                redis.raw().set(part, new byte[] {1});
            }
            assertTrue(t.get(key).isEmpty(), "a header claiming more than its parts can hold is a miss");
            assertEquals(1, t.corruptChunks());
        }
    }
}
