package org.lmcache4j.api;

/** The element type of engine KV tensors; only its size matters to the cache, its name to the fingerprint. */
public enum KvDtype {
    FP32(4),
    FP16(2),
    BF16(2),
    FP8_E4M3(1),
    FP8_E5M2(1);

    private final int sizeBytes;

    KvDtype(int sizeBytes) {
        this.sizeBytes = sizeBytes;
    }

    /** Bytes per element. */
    public int sizeBytes() {
        return sizeBytes;
    }
}
