package org.lmcache4j.storage;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.lmcache4j.api.ChunkKey;

/**
 * The Redis keys of one namespace of the {@code remote} tier, all ASCII.
 *
 * <pre>
 *   {prefix}:{{ns}}:lru  :hdr  :size  :pins  :pinx  :exp  :meta  :gc   the namespace's index (one hash slot)
 *   {prefix}:{{ns}:{key hex}}:{write id hex}:{part}               part {part} of one stored copy of a chunk
 * </pre>
 * {@code ns} is {@code CacheNamespace.id()}. The braces are Redis Cluster hash tags: the index keys share
 * one slot, so a script can update them atomically, and all parts of a chunk share another, so a chunk is
 * written and read on one node in one pipelined round trip. The write id, chosen at random by each put,
 * keeps two puts of one key (or a put after a remove) from ever mixing their parts.
 */
final class RemoteKeys {

    /** The index keys in the order the index scripts take them as {@code KEYS}. */
    private static final String[] INDEX_SUFFIXES = {"lru", "hdr", "size", "pins", "pinx", "exp", "meta", "gc"};

    private final String prefix;
    private final String namespaceId;
    private final List<byte[]> indexKeys;

    /**
     * @throws IllegalArgumentException unless {@code namespaceId} is 1 to 64 characters of {@code [A-Za-z0-9._-]}
     */
    RemoteKeys(String prefix, String namespaceId) {
        if (namespaceId == null || namespaceId.isEmpty() || namespaceId.length() > 64
                || !namespaceId.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 128 || c == '.' || c == '_' || c == '-')) {
            throw new IllegalArgumentException("namespaceId: '" + namespaceId + "' (expected: 1 to 64 of [A-Za-z0-9._-], "
                    + "as CacheNamespace.id() returns)");
        }
        this.prefix = prefix;
        this.namespaceId = namespaceId;
        String base = prefix + ":{" + namespaceId + "}:";
        byte[][] keys = new byte[INDEX_SUFFIXES.length][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = ascii(base + INDEX_SUFFIXES[i]);
        }
        this.indexKeys = List.of(keys);
    }

    /** The namespace these keys belong to. */
    String namespaceId() {
        return namespaceId;
    }

    /** The index keys, in the scripts' order: lru, hdr, size, pins, pinx, exp, meta, gc. */
    List<byte[]> indexKeys() {
        return indexKeys;
    }

    /** The member that stands for {@code key} in the index: its lower-case hex, readable in redis-cli. */
    static byte[] member(ChunkKey key) {
        return ascii(key.toString());
    }

    /** The key of part {@code part} of the copy of {@code key} written with {@code writeId}. */
    byte[] part(ChunkKey key, long writeId, int part) {
        return ascii(prefix + ":{" + namespaceId + ":" + key + "}:" + HexFormat.of().toHexDigits(writeId) + ":" + part);
    }

    /** The keys of every part of one stored copy. */
    byte[][] parts(ChunkKey key, long writeId, int parts) {
        byte[][] out = new byte[parts][];
        for (int i = 0; i < parts; i++) {
            out[i] = part(key, writeId, i);
        }
        return out;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
