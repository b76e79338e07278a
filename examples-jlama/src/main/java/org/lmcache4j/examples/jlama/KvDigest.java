package org.lmcache4j.examples.jlama;

import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvLayout;

/** SHA-256 over the KV rows of a run of positions: equal digests, equal bytes (for comparing across processes). */
final class KvDigest {

    private KvDigest() {
    }

    /** Digest of positions {@code [0, positions)} of every layer and plane, layer-major. */
    static String of(HostKvMemory kv, int positions) {
        KvLayout layout = kv.layout();
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
        for (int layer = 0; layer < layout.numLayers(); layer++) {
            for (int plane = 0; plane < layout.planes(); plane++) {
                int slot = 0;
                while (slot < positions) {
                    int rows = Math.min(positions - slot, kv.rowsInSegmentFrom(slot));
                    MemorySegment run = kv.segmentOf(layer, plane, slot).asSlice(kv.offsetOf(slot), (long) rows * layout.rowBytes());
                    sha.update(run.asByteBuffer());
                    slot += rows;
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
