package org.lmcache4j.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything that decides whether stored KV may be served to a connector: the {@link CacheNamespace}
 * (model id, layout fingerprint, tenant salt, tensor-parallel rank and world size), the chunk size and
 * the key hash. A persistent or shared tier (disk, remote) keeps its chunks under {@link #id()} and
 * records {@link #describe()} beside them; a connector whose identity differs from the recorded one
 * refuses to use them.
 *
 * <p>The record keeps only a SHA-256 digest of the tenant salt, so the salt itself is never written to
 * a disk or a shared store.
 *
 * @param namespace     the namespace every chunk key is rooted in
 * @param chunkTokens   tokens per chunk, &gt; 0
 * @param hashAlgorithm the hash that chains chunk keys
 */
public record CacheIdentity(CacheNamespace namespace, int chunkTokens, HashAlgorithm hashAlgorithm) {

    /** The first line of {@link #describe()}; a new line format gets a new version. */
    public static final String FORMAT = "lmcache4j-identity/1";

    public CacheIdentity {
        if (namespace == null || hashAlgorithm == null) {
            throw new IllegalArgumentException("namespace and hashAlgorithm: must not be null");
        }
        if (chunkTokens <= 0) {
            throw new IllegalArgumentException("chunkTokens: " + chunkTokens + " (expected: > 0)");
        }
    }

    /**
     * The identity as {@code name=value} lines, first the format line: what a tier records and compares.
     * Model ids are written as given (they cannot hold line breaks, see {@link LmCacheConfig}); the tenant
     * salt as the hex SHA-256 of its UTF-8 bytes, empty for none.
     */
    public String describe() {
        StringBuilder out = new StringBuilder(FORMAT).append('\n');
        fields().forEach((name, value) -> out.append(name).append('=').append(value).append('\n'));
        return out.toString();
    }

    /** The fields of {@link #describe()} in order, without the format line. */
    public Map<String, String> fields() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("model_id", namespace.modelId());
        f.put("layout_fingerprint", namespace.layoutFingerprint());
        f.put("chunk_tokens", Integer.toString(chunkTokens));
        f.put("hash_algorithm", hashAlgorithm.label());
        f.put("tenant_salt_sha256", namespace.tenantSalt().isEmpty() ? "" : sha256Hex(namespace.tenantSalt()));
        f.put("tp_rank", Integer.toString(namespace.tpRank()));
        f.put("tp_world_size", Integer.toString(namespace.tpWorldSize()));
        return f;
    }

    /**
     * A short stable name of this identity: the first 16 hex digits of SHA-256 over {@link #describe()}.
     * Names the disk tier's directory and the remote tier's namespace, so connectors that differ in any
     * field share nothing.
     */
    public String id() {
        return sha256Hex(describe()).substring(0, 16);
    }

    /**
     * A directory name: the model id reduced to {@code [A-Za-z0-9._-]} (at most 48 characters), then
     * {@link #id()}, e.g. {@code SmolLM-135M-3fa9c0d2e1b4a7f6}.
     */
    public String directoryName() {
        String model = namespace.modelId().replaceAll("[^A-Za-z0-9._-]", "_");
        if (model.length() > 48) {
            model = model.substring(0, 48);
        }
        return model + "-" + id();
    }

    /**
     * The fields in which {@code recorded} (a {@link #describe()} text read back from a tier) differs
     * from this identity, as {@code name: recorded -> ours} phrases; empty when it matches exactly.
     */
    public String differences(String recorded) {
        Map<String, String> theirs = new LinkedHashMap<>();
        String[] lines = recorded == null ? new String[0] : recorded.split("\n", -1);
        if (lines.length == 0 || !FORMAT.equals(lines[0])) {
            return "format: '" + (lines.length == 0 ? "" : lines[0]) + "' (expected: '" + FORMAT + "')";
        }
        for (int i = 1; i < lines.length; i++) {
            int eq = lines[i].indexOf('=');
            if (eq > 0) {
                theirs.put(lines[i].substring(0, eq), lines[i].substring(eq + 1));
            }
        }
        StringBuilder diff = new StringBuilder();
        fields().forEach((name, ours) -> {
            String recordedValue = theirs.get(name);
            if (!ours.equals(recordedValue)) {
                diff.append(diff.isEmpty() ? "" : ", ").append(name).append(": ")
                        .append(recordedValue == null ? "(missing)" : "'" + recordedValue + "'")
                        .append(" -> '").append(ours).append("'");
            }
        });
        if (diff.isEmpty() && !describe().equals(recorded)) {
            diff.append("extra or repeated lines in the record");
        }
        return diff.toString();
    }

    private static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }
}
