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

    /** The longest model id, in chars. */
    public static final int MAX_MODEL_ID_CHARS = 1024;

    public CacheNamespace {
        requireModelId(modelId);
        if (layoutFingerprint == null || layoutFingerprint.isBlank()) {
            throw new IllegalArgumentException("layoutFingerprint: '" + layoutFingerprint + "' (expected: KvLayout.fingerprint())");
        }
        tenantSalt = tenantSalt == null ? "" : tenantSalt;
        requireWellFormed("tenantSalt", tenantSalt);
        if (tpWorldSize <= 0) {
            throw new IllegalArgumentException("tpWorldSize: " + tpWorldSize + " (expected: > 0)");
        }
        if (tpRank < 0 || tpRank >= tpWorldSize) {
            throw new IllegalArgumentException("tpRank: " + tpRank + " (expected: 0 to " + (tpWorldSize - 1) + ")");
        }
    }

    /**
     * Checks a model id: non-blank, at most {@value #MAX_MODEL_ID_CHARS} chars, no control characters
     * (ids are recorded as lines of text), well-formed UTF-16.
     *
     * @throws IllegalArgumentException naming the id and what is wrong with it
     */
    static void requireModelId(String modelId) {
        if (modelId == null || modelId.isBlank()) {
            throw new IllegalArgumentException("modelId: '" + modelId + "' (expected: a non-blank model name)");
        }
        if (modelId.length() > MAX_MODEL_ID_CHARS) {
            throw new IllegalArgumentException("modelId: " + modelId.length() + " chars (expected: at most "
                    + MAX_MODEL_ID_CHARS + ")");
        }
        for (int i = 0; i < modelId.length(); i++) {
            if (Character.isISOControl(modelId.charAt(i))) {
                throw new IllegalArgumentException("modelId: '" + modelId.replaceAll("\\p{Cntrl}", "?") + "' has control character U+"
                        + String.format("%04X", (int) modelId.charAt(i)) + " at index " + i
                        + " (expected: printable text, e.g. name@revision)");
            }
        }
        requireWellFormed("modelId", modelId);
    }

    /**
     * Rejects unpaired surrogates: they all encode to the same replacement byte in UTF-8, so two different
     * ids would name one namespace.
     *
     * @throws IllegalArgumentException naming the field and the index of the bad char
     */
    static void requireWellFormed(String field, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(field + ": unpaired surrogate U+" + String.format("%04X", (int) c)
                        + " at index " + i + " (expected: well-formed UTF-16 text; malformed text would collide with"
                        + " other values once encoded)");
            }
        }
    }

    /** The namespace of {@code layout} for a model, with no tenant salt and no tensor parallelism. */
    public static CacheNamespace of(String modelId, KvLayout layout) {
        return new CacheNamespace(modelId, layout.fingerprint(), "", 0, 1);
    }

    /**
     * A short stable identifier of this namespace: the first 16 hex digits of SHA-256 over
     * {@link #canonicalBytes()}. (Disk directories and remote namespaces are named by
     * {@link CacheIdentity#id()}, which adds the chunk size and hash.)
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
