package org.lmcache4j.redis;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.lmcache4j.api.ChunkKey;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * The Redis keys of one namespace of the {@code remote} tier, all ASCII, its index split into
 * {@code shards} hash slots by chunk key.
 *
 * <pre>
 *   {prefix}:{{tag}}:lru  :hdr  :size  :pins  :pinx  :exp  :meta  :gc   the index of one shard (one hash slot)
 *   {prefix}:{{tag}}:{key hex}:{write id hex}:{part}                    part {part} of one stored copy of a chunk
 *   {prefix}:{{ns}}:meta                                                the namespace's identity record
 * </pre>
 * {@code ns} is {@code CacheNamespace.id()} followed by the key layout's version ({@link #KEY_LAYOUT}). The braces are Redis Cluster hash tags. A chunk belongs to
 * one shard ({@link #shardOf}); the shard's index keys and the parts of its chunks share the shard's slot,
 * so a script can update a shard's index atomically, a chunk is written and read on one node in one
 * pipelined round trip, and a lost node loses its shards' index entries together with their parts.
 *
 * <p>With one shard the tag is {@code ns} itself. With more, shard {@code i}'s tag is {@code ns:i.salt},
 * the salt the smallest that puts the tag's slot in the middle half of the {@code i}-th of {@code shards}
 * equal ranges of the 16384 slots: {@code redis-cli --cluster create} gives each master one contiguous
 * range of equal size, so the shards, and with them the index's load and the parts' bytes, spread evenly
 * over the masters (as evenly as {@code shards} divides by their count), never by the luck of a hash.
 * The identity record stays at the tag {@code ns} whatever the shard count, so engines configured with
 * different counts meet there. The write id, chosen at random by each put, keeps two puts of one key (or a
 * put after a remove) from ever mixing their parts.
 */
final class RemoteKeys {

    /** Redis Cluster's hash slots. */
    static final int SLOTS = 16384;

    /** The index keys in the order the index scripts take them as {@code KEYS}. */
    private static final String[] INDEX_SUFFIXES = {"lru", "hdr", "size", "pins", "pinx", "exp", "meta", "gc"};

    /** The key layout's version, in every key of a namespace ({@link #versioned}). */
    static final String KEY_LAYOUT = ".k2";

    private final String prefix;
    private final String namespaceId;
    private final String[] tags;
    private final int[] slots;
    private final List<List<byte[]>> indexKeys;
    private final List<byte[]> homeKeys;

    /** The keys of a namespace with one shard. */
    RemoteKeys(String prefix, String namespaceId) {
        this(prefix, namespaceId, 1);
    }

    /**
     * @throws IllegalArgumentException unless {@code namespaceId} is 1 to 64 characters of {@code [A-Za-z0-9._-]}
     *                                  and {@code shards} is 1 to {@value RemoteUrl#MAX_INDEX_SHARDS}
     */
    RemoteKeys(String prefix, String namespaceId, int shards) {
        if (namespaceId == null || namespaceId.isEmpty() || namespaceId.length() > 64
                || !namespaceId.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 128 || c == '.' || c == '_' || c == '-')) {
            throw new IllegalArgumentException("namespaceId: '" + namespaceId + "' (expected: 1 to 64 of [A-Za-z0-9._-], "
                    + "as CacheNamespace.id() returns)");
        }
        if (shards < 1 || shards > RemoteUrl.MAX_INDEX_SHARDS) {
            throw new IllegalArgumentException("shards: " + shards + " (expected: 1 to " + RemoteUrl.MAX_INDEX_SHARDS + ")");
        }
        this.prefix = prefix;
        this.namespaceId = namespaceId;
        this.tags = new String[shards];
        this.slots = new int[shards];
        for (int i = 0; i < shards; i++) {
            tags[i] = shards == 1 ? versioned(namespaceId) : aimedTag(versioned(namespaceId), i, shards);
            slots[i] = JedisClusterCRC16.getSlot(tags[i]);
        }
        this.indexKeys = java.util.stream.IntStream.range(0, shards).mapToObj(i -> keysOf(tags[i])).toList();
        this.homeKeys = keysOf(versioned(namespaceId));
    }

    /**
     * The namespace as its keys name it: with the key layout's version, so that keys an older layout wrote
     * (parts in their own slot, before the index had shards) are never read as this one's, nor this one's
     * by an older engine. An older layout's keys stay until cleared (README, remote tier).
     */
    static String versioned(String namespaceId) {
        return namespaceId + KEY_LAYOUT;
    }

    /** The namespace these keys belong to. */
    String namespaceId() {
        return namespaceId;
    }

    /** The number of shards the index is split into. */
    int shards() {
        return tags.length;
    }

    /**
     * The shard of {@code key}: its first four bytes, unsigned, modulo the shard count (chunk keys are
     * uniform hashes, so the shards fill evenly).
     */
    int shardOf(ChunkKey key) {
        if (tags.length == 1) {
            return 0;
        }
        byte[] b = new byte[key.length()];
        key.copyTo(b, 0);
        long head = ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
        return (int) (head % tags.length);
    }

    /** The hash slot of shard {@code shard}. */
    int slotOf(int shard) {
        return slots[shard];
    }

    /** The index keys of shard 0, in the scripts' order: lru, hdr, size, pins, pinx, exp, meta, gc. */
    List<byte[]> indexKeys() {
        return indexKeys.getFirst();
    }

    /** The index keys of {@code shard}, in the scripts' order: lru, hdr, size, pins, pinx, exp, meta, gc. */
    List<byte[]> indexKeys(int shard) {
        return indexKeys.get(shard);
    }

    /**
     * The keys at tag {@code ns} in the scripts' order, whose {@code meta} holds the namespace's identity
     * record; with one shard, the index keys of shard 0.
     */
    List<byte[]> homeKeys() {
        return homeKeys;
    }

    /** The member that stands for {@code key} in the index: its lower-case hex, readable in redis-cli. */
    static byte[] member(ChunkKey key) {
        return ascii(key.toString());
    }

    /** The key of part {@code part} of the copy of {@code key} written with {@code writeId}. */
    byte[] part(ChunkKey key, long writeId, int part) {
        return ascii(prefix + ":{" + tags[shardOf(key)] + "}:" + key + ":" + HexFormat.of().toHexDigits(writeId) + ":" + part);
    }

    /** The keys of every part of one stored copy. */
    byte[][] parts(ChunkKey key, long writeId, int parts) {
        byte[][] out = new byte[parts][];
        for (int i = 0; i < parts; i++) {
            out[i] = part(key, writeId, i);
        }
        return out;
    }

    private List<byte[]> keysOf(String tag) {
        String base = prefix + ":{" + tag + "}:";
        byte[][] keys = new byte[INDEX_SUFFIXES.length][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = ascii(base + INDEX_SUFFIXES[i]);
        }
        return List.of(keys);
    }

    /** {@code ns:shard.salt}, the smallest salt whose slot lies in the middle half of the shard's range. */
    private static String aimedTag(String namespaceId, int shard, int shards) {
        double width = (double) SLOTS / shards;
        int from = (int) Math.ceil(width * shard + width / 4);
        int to = Math.max(from, (int) Math.floor(width * shard + 3 * width / 4));
        String base = namespaceId + ":" + shard + ".";
        for (int salt = 0; salt < 100_000_000; salt++) {
            int slot = JedisClusterCRC16.getSlot(base + salt);
            if (slot >= from && slot <= to) {
                return base + salt;
            }
        }
        throw new IllegalStateException("no salt aims shard " + shard + " of " + shards + " at slots " + from + ".." + to);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
