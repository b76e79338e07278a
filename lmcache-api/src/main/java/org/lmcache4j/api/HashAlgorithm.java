package org.lmcache4j.api;

/** The hash function that chains chunk keys. */
public enum HashAlgorithm {
    /** SHA-256 (32-byte keys): collision resistant, the default, safe for caches shared between tenants. */
    SHA_256(32, "sha256"),
    /** XXH3-128 (16-byte keys): faster, not collision resistant; for single-tenant deployments. */
    XXH3_128(16, "xxh3_128");

    private final int keyBytes;
    private final String label;

    HashAlgorithm(int keyBytes, String label) {
        this.keyBytes = keyBytes;
        this.label = label;
    }

    /** The name {@link #parse} and {@code LMCACHE_HASH_ALGORITHM} take: {@code sha256} or {@code xxh3_128}. */
    public String label() {
        return label;
    }

    /** Length of a chunk key made by this algorithm. */
    public int keyBytes() {
        return keyBytes;
    }

    /** Parses {@code sha256}, {@code sha-256}, {@code xxh3_128}, {@code xxh3-128} (any case). */
    public static HashAlgorithm parse(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT).replace('-', '_');
        return switch (t) {
            case "sha256", "sha_256" -> SHA_256;
            case "xxh3_128", "xxh3", "xxh128" -> XXH3_128;
            default -> throw new IllegalArgumentException("hash algorithm: '" + text + "' (expected: sha256 or xxh3_128)");
        };
    }
}
