package org.lmcache4j.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The shape of one token's KV: layers, KV heads, head dimension, element type, and whether the model
 * uses standard K+V or MLA (one latent vector per token per layer).
 *
 * <p>A chunk buffer holds {@code [K|V][layer][token][kvHeads*headDim]} (LMCache's KV_2LTD) for standard
 * attention, or {@code [layer][token][latentDim]} for MLA. The {@link #fingerprint()} is part of every
 * chunk key, so a layout mismatch is a miss, never wrong data.
 *
 * @param numLayers   transformer layers whose KV is cached, &gt; 0
 * @param numKvHeads  KV heads held by this rank (after tensor parallel split), &gt; 0; 1 for MLA
 * @param headDim     elements per head, &gt; 0; the latent dimension for MLA
 * @param dtype       element type
 * @param mla         true for multi-head latent attention (a single latent plane instead of K and V)
 */
public record KvLayout(int numLayers, int numKvHeads, int headDim, KvDtype dtype, boolean mla) {

    /** Fingerprint format version; bump when the canonical text below changes meaning. */
    private static final String FINGERPRINT_VERSION = "kv-layout/1";

    public KvLayout {
        requirePositive("numLayers", numLayers);
        requirePositive("numKvHeads", numKvHeads);
        requirePositive("headDim", headDim);
        if (dtype == null) {
            throw new IllegalArgumentException("dtype: null (expected: one of FP32, FP16, BF16, FP8_E4M3, FP8_E5M2)");
        }
        if (mla && numKvHeads != 1) {
            throw new IllegalArgumentException("numKvHeads: " + numKvHeads + " (expected: 1 for an MLA layout)");
        }
        long perToken = (long) (mla ? 1 : 2) * numLayers * numKvHeads * headDim * dtype.sizeBytes();
        if (perToken > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bytes per token: " + perToken + " (expected: at most 2 GiB)");
        }
    }

    /** A standard K+V layout. */
    public static KvLayout standard(int numLayers, int numKvHeads, int headDim, KvDtype dtype) {
        return new KvLayout(numLayers, numKvHeads, headDim, dtype, false);
    }

    /** An MLA layout: one latent vector of {@code latentDim} elements per token per layer. */
    public static KvLayout mla(int numLayers, int latentDim, KvDtype dtype) {
        return new KvLayout(numLayers, 1, latentDim, dtype, true);
    }

    /** Number of KV planes: 2 (K and V) for standard attention, 1 for MLA. */
    public int planes() {
        return mla ? 1 : 2;
    }

    /** Elements of one token in one layer and one plane: {@code numKvHeads * headDim}. */
    public int tokenDim() {
        return numKvHeads * headDim;
    }

    /** Bytes of one token in one layer and one plane: a row of engine memory. */
    public int rowBytes() {
        return tokenDim() * dtype.sizeBytes();
    }

    /** Bytes of one token's KV over all layers and planes. */
    public int bytesPerToken() {
        return planes() * numLayers * rowBytes();
    }

    /** Bytes of a chunk buffer holding {@code tokens} tokens. */
    public long chunkBytes(int tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens: " + tokens + " (expected: >= 0)");
        }
        return (long) tokens * bytesPerToken();
    }

    /**
     * A stable identifier of this layout: the first 16 hex digits of SHA-256 over a canonical text.
     * Equal in every process, JVM version and machine; different for any field that differs.
     */
    public String fingerprint() {
        String canonical = FINGERPRINT_VERSION + ";layers=" + numLayers + ";kvHeads=" + numKvHeads
                + ";headDim=" + headDim + ";dtype=" + dtype.name() + ";mla=" + mla;
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
        }
    }
}
