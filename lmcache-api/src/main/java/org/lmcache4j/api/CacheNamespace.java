package org.lmcache4j.api;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * What every chunk key is rooted in: model id, KV layout fingerprint, tenant salt and tensor-parallel
 * position. Two namespaces that differ in any field never share or probe each other's chunks.
 *
 * @param modelId           the model's name or path, non-blank
 * @param layoutFingerprint {@link KvLayout#fingerprint()} of the engine's layout
 * @param tenantSalt        isolates tenants sharing one cache; empty for none
 * @param tpRank            this worker's tensor-parallel rank, in {@code [0, tpWorldSize)}
 * @param tpWorldSize       tensor-parallel world size, &gt; 0
 */
public record CacheNamespace(String modelId, String layoutFingerprint, String tenantSalt, int tpRank, int tpWorldSize) {

    private static final String FORMAT = "lmcache4j-namespace/1";

    public CacheNamespace {
        if (modelId == null || modelId.isBlank()) {
            throw new IllegalArgumentException("modelId: '" + modelId + "' (expected: a non-blank model name)");
        }
        if (layoutFingerprint == null || layoutFingerprint.isBlank()) {
            throw new IllegalArgumentException("layoutFingerprint: '" + layoutFingerprint + "' (expected: KvLayout.fingerprint())");
        }
        tenantSalt = tenantSalt == null ? "" : tenantSalt;
        if (tpWorldSize <= 0) {
            throw new IllegalArgumentException("tpWorldSize: " + tpWorldSize + " (expected: > 0)");
        }
        if (tpRank < 0 || tpRank >= tpWorldSize) {
            throw new IllegalArgumentException("tpRank: " + tpRank + " (expected: 0 to " + (tpWorldSize - 1) + ")");
        }
    }

    /** The namespace of {@code layout} for a model, with no tenant salt and no tensor parallelism. */
    public static CacheNamespace of(String modelId, KvLayout layout) {
        return new CacheNamespace(modelId, layout.fingerprint(), "", 0, 1);
    }

    /**
     * A short stable identifier of this namespace: the first 16 hex digits of SHA-256 over
     * {@link #canonicalBytes()}. Names per-namespace places such as the disk tier's directory.
     */
    public String id() {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(canonicalBytes());
            return java.util.HexFormat.of().formatHex(digest, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /**
     * A directory name for this namespace: the model id reduced to {@code [A-Za-z0-9._-]} (at most 48
     * characters) and {@link #id()}, e.g. {@code SmolLM-135M-3fa9c0d2e1b4a7f6}.
     */
    public String directoryName() {
        String model = modelId.replaceAll("[^A-Za-z0-9._-]", "_");
        if (model.length() > 48) {
            model = model.substring(0, 48);
        }
        return model + "-" + id();
    }

    /**
     * The canonical bytes hashed into the root of every key chain: each field length-prefixed, so no two
     * different namespaces have the same bytes.
     */
    public byte[] canonicalBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String field : new String[] {FORMAT, modelId, layoutFingerprint, tenantSalt,
                Integer.toString(tpRank), Integer.toString(tpWorldSize)}) {
            byte[] b = field.getBytes(StandardCharsets.UTF_8);
            out.write(b.length >>> 24);
            out.write(b.length >>> 16);
            out.write(b.length >>> 8);
            out.write(b.length);
            out.writeBytes(b);
        }
        return out.toByteArray();
    }
}
