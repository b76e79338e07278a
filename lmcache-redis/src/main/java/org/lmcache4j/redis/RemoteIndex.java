package org.lmcache4j.redis;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.lmcache4j.api.ChunkKey;
import redis.clients.jedis.UnifiedJedis;

/**
 * The index of one namespace of the {@code remote} tier, kept in Redis and changed only by the Lua
 * scripts below, so every engine sharing the namespace sees one consistent budget, recency order and
 * set of pins.
 *
 * <p>Shards. The index is split into {@link RemoteKeys#shards()} shards by chunk key, each in its own
 * hash slot, so a cluster's masters share the namespace's index load. A script touches the keys of one
 * shard only (Redis Cluster refuses more), so each shard is a complete index of its chunks with its own
 * recency order and its own share of the budget, {@code capacity / shards} bytes: the shards' budgets add
 * up to at most {@code capacity}, each held atomically by its own script, so the namespace never holds
 * more, whatever the interleaving of puts, with no cross-slot step that a dying client could leave half
 * done. The price: eviction is least recently used within a shard, not over the namespace, and a chunk
 * larger than a shard's share is refused. The namespace's identity record is one {@code meta} hash at
 * {@link RemoteKeys#homeKeys()}, with the shard count it was claimed with.
 *
 * <p>Keys of a shard ({@link RemoteKeys#indexKeys(int)}, one hash slot): {@code lru} (sorted set: chunk to the tick
 * of its last put or get), {@code hdr} (hash: chunk to its header, {@link RemoteChunkFormat}), {@code size}
 * (hash: chunk to the bytes charged), {@code pins} and {@code pinx} (hashes: pin count and latest pin
 * deadline in server milliseconds), {@code exp} (sorted set: chunk to its expiry, only with a TTL),
 * {@code meta} (hash: {@code tick}, {@code used} bytes, {@code identity}: the namespace's
 * {@code CacheIdentity.describe()}), {@code gc} (sorted set: header of a dropped chunk whose parts may
 * still exist to the server time from which any client may delete them). A chunk is in the index exactly
 * when its parts were written before it was admitted.
 *
 * <p>Garbage. Parts live in other hash slots than the index, so no script can delete them; instead the
 * script that drops a chunk (eviction, remove, clear, a damaged chunk) records its header in {@code gc}
 * in the same atomic step, due after a lease that gives its own client time to delete the parts. Every
 * admission hands out up to {@value #SWEEP_BATCH} due entries (leasing them again) for its client to
 * delete, and takes out the entries its client says it deleted. So a client that dies or times out
 * between the script and the deletion leaves work for the next put, never parts without an owner.
 * Times come from the server's clock ({@code TIME}), so engines with skewed clocks agree on pins and TTLs.
 */
final class RemoteIndex {

    /**
     * Result of {@link #admit}: whether the chunk is stored, its index expiry in server milliseconds (0
     * without a TTL, or when not stored), the headers of the chunks it evicted, and the headers of garbage
     * due for deletion that this client should delete (both kinds go in {@code gc} until confirmed).
     */
    record Admission(Outcome outcome, long deadlineMillis, List<byte[]> evictedHeaders, List<byte[]> garbageHeaders) {
    }

    /** Due garbage entries one admission hands out. */
    static final int SWEEP_BATCH = 32;

    enum Outcome { REFUSED, PRESENT, STORED }

    private static RemoteScript script(String name, String body) {
        return new RemoteScript(name, PRELUDE + body);
    }

    private static final String PRELUDE = """
            local lru, hdr, size, pins, pinx, exp, meta, gc = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
            local function int(x) return string.format('%d', x) end
            local function now_ms()
              local t = redis.call('TIME')
              return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            end
            local function drop(m)
              local h = redis.call('HGET', hdr, m)
              if not h then return false end
              local s = tonumber(redis.call('HGET', size, m) or '0')
              redis.call('ZREM', lru, m)
              redis.call('HDEL', hdr, m)
              redis.call('HDEL', size, m)
              redis.call('HDEL', pins, m)
              redis.call('HDEL', pinx, m)
              redis.call('ZREM', exp, m)
              redis.call('HINCRBY', meta, 'used', int(-s))
              return h
            end
            local function discard(m, due)
              local h = drop(m)
              if h then redis.call('ZADD', gc, int(due), h) end
              return h
            end
            local function expired(m, now)
              local e = redis.call('ZSCORE', exp, m)
              return e and tonumber(e) <= now
            end
            local function pinned(m, now)
              local c = tonumber(redis.call('HGET', pins, m) or '0')
              if c <= 0 then return false end
              if tonumber(redis.call('HGET', pinx, m) or '0') > now then return true end
              redis.call('HDEL', pins, m)
              redis.call('HDEL', pinx, m)
              return false
            end
            """;

    /**
     * ARGV: member, charged bytes, header, capacity, ttl ms, garbage lease ms, then headers whose parts the
     * caller deleted. Returns {code (0 refused, 1 present, 2 stored), expiry ms or 0, victim count, victim
     * headers..., due garbage headers...}.
     */
    private static final RemoteScript ADMIT = script("admit", """
            local m, charged, capacity, ttl, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
            for i = 7, #ARGV do redis.call('ZREM', gc, ARGV[i]) end
            local now = now_ms()
            for _, e in ipairs(redis.call('ZRANGEBYSCORE', exp, '-inf', int(now), 'LIMIT', 0, 64)) do drop(e) end
            local swept = redis.call('ZRANGEBYSCORE', gc, '-inf', int(now), 'LIMIT', 0, %d)
            for _, g in ipairs(swept) do redis.call('ZADD', gc, int(now + lease), g) end
            local function answer(code, deadline, victims)
              local out = {code, deadline, #victims}
              for _, v in ipairs(victims) do out[#out + 1] = v end
              for _, g in ipairs(swept) do out[#out + 1] = g end
              return out
            end
            if redis.call('ZSCORE', lru, m) then
              if not expired(m, now) then return answer(1, 0, {}) end
              drop(m) -- past its deadline (its parts expire by themselves): this copy replaces it
            end
            if charged > capacity then return answer(0, 0, {}) end
            local used = tonumber(redis.call('HGET', meta, 'used') or '0')
            local victims = {}
            if used + charged > capacity then
              local need, found, offset = used + charged - capacity, 0, 0
              while found < need do
                local batch = redis.call('ZRANGE', lru, int(offset), int(offset + 63))
                if #batch == 0 then return answer(0, 0, {}) end
                for _, v in ipairs(batch) do
                  if not pinned(v, now) then
                    victims[#victims + 1] = v
                    found = found + tonumber(redis.call('HGET', size, v) or '0')
                    if found >= need then break end
                  end
                end
                offset = offset + 64
              end
            end
            local evicted = {}
            for _, v in ipairs(victims) do
              local h = discard(v, now + lease)
              if h then evicted[#evicted + 1] = h end
            end
            local tick = redis.call('HINCRBY', meta, 'tick', 1)
            redis.call('ZADD', lru, int(tick), m)
            redis.call('HSET', hdr, m, ARGV[3])
            redis.call('HSET', size, m, ARGV[2])
            redis.call('HINCRBY', meta, 'used', ARGV[2])
            local deadline = 0
            if ttl > 0 then
              deadline = now + ttl
              redis.call('ZADD', exp, int(deadline), m)
            end
            return answer(2, deadline, evicted)
            """.formatted(SWEEP_BATCH));

    /** ARGV: member. Marks the chunk used and returns its header, or nil. */
    private static final RemoteScript TOUCH = script("touch", """
            local m = ARGV[1]
            local h = redis.call('HGET', hdr, m)
            if not h then return false end
            if redis.call('ZSCORE', exp, m) and expired(m, now_ms()) then drop(m) return false end
            redis.call('ZADD', lru, 'XX', int(redis.call('HINCRBY', meta, 'tick', 1)), m)
            return h
            """);

    /** ARGV: members. Returns 1 or 0 for each, without touching recency. */
    private static final RemoteScript CONTAINS = script("contains", """
            local now = nil
            local out = {}
            for i, m in ipairs(ARGV) do
              local present = redis.call('ZSCORE', lru, m)
              if present and redis.call('ZSCORE', exp, m) then
                now = now or now_ms()
                if expired(m, now) then present = false end
              end
              out[i] = present and 1 or 0
            end
            return out
            """);

    /** ARGV: member, expected header ('' = any), garbage lease ms. Drops the chunk into gc and returns its header, or nil. */
    private static final RemoteScript FORGET = script("forget", """
            local h = redis.call('HGET', hdr, ARGV[1])
            if not h or (ARGV[2] ~= '' and h ~= ARGV[2]) then return false end
            return discard(ARGV[1], now_ms() + tonumber(ARGV[3]))
            """);

    /** ARGV: member, timeout ms. Returns 1 when pinned, 0 when absent. */
    private static final RemoteScript PIN = script("pin", """
            local m = ARGV[1]
            if not redis.call('ZSCORE', lru, m) then return 0 end
            local now = now_ms()
            if expired(m, now) then drop(m) return 0 end
            local c = tonumber(redis.call('HGET', pins, m) or '0')
            local d = tonumber(redis.call('HGET', pinx, m) or '0')
            if c > 0 and d <= now then c, d = 0, 0 end
            local deadline = now + tonumber(ARGV[2])
            if d > deadline then deadline = d end
            redis.call('HSET', pins, m, int(c + 1))
            redis.call('HSET', pinx, m, int(deadline))
            return 1
            """);

    /** ARGV: member. Ends one pin. */
    private static final RemoteScript UNPIN = script("unpin", """
            local c = tonumber(redis.call('HGET', pins, ARGV[1]) or '0')
            if c <= 1 then
              redis.call('HDEL', pins, ARGV[1])
              redis.call('HDEL', pinx, ARGV[1])
            else
              redis.call('HSET', pins, ARGV[1], int(c - 1))
            end
            return 1
            """);

    /** ARGV: max, garbage lease ms. Drops up to max chunks into gc, oldest first, and returns their headers. */
    private static final RemoteScript DRAIN = script("drain", """
            local out = {}
            local due = now_ms() + tonumber(ARGV[2])
            for _, m in ipairs(redis.call('ZRANGE', lru, 0, int(tonumber(ARGV[1]) - 1))) do out[#out + 1] = discard(m, due) end
            if redis.call('ZCARD', lru) == 0 then
              redis.call('DEL', hdr, size, pins, pinx, exp)
              redis.call('HSET', meta, 'used', 0)
            end
            return out
            """);

    /**
     * ARGV: identity, shard count. Records each when the namespace has none, and returns the recorded
     * {identity, shard count}. A namespace whose record is gone while chunks remain (the server lost or
     * evicted the meta key) is adopted: its name is the digest of the identity, so only a connector of the
     * same identity wrote there.
     */
    private static final RemoteScript CLAIM = script("claim", """
            local v = redis.call('HGET', meta, 'identity')
            if not v then
              v = ARGV[1]
              redis.call('HSET', meta, 'identity', v)
            end
            local s = redis.call('HGET', meta, 'shards')
            if not s then
              s = ARGV[2]
              redis.call('HSET', meta, 'shards', s)
            end
            return {v, s}
            """);

    /**
     * Returns {chunks, used bytes}, after dropping up to 256 chunks past their deadline (with a TTL), as an admission
     * does: a namespace no engine writes to would report them until something touched them.
     */
    private static final RemoteScript USAGE = script("usage", """
            for _, e in ipairs(redis.call('ZRANGEBYSCORE', exp, '-inf', int(now_ms()), 'LIMIT', 0, 256)) do drop(e) end
            return {redis.call('ZCARD', lru), tonumber(redis.call('HGET', meta, 'used') or '0')}
            """);

    private final RemoteKeys keys;
    private final RemoteShardCalls shardCalls;
    private final long capacityBytes;
    private final long shardCapacityBytes;
    private final long ttlMillis;
    private final long garbageLeaseMillis;

    /**
     * Whether each chunk asked for is present, how many shards were asked, and why some could not be
     * asked (their shards' nodes failed).
     */
    record Presence(boolean[] found, int shardsAsked, List<RuntimeException> failures, boolean someMasterServing) {

        /**
         * True when no shard asked answered and no master of the cluster is known to serve (a single
         * server never is): the remote as a whole did not serve the lookup. When other masters serve, only
         * this lookup's nodes failed, which is no outage of the remote.
         */
        boolean outage() {
            return shardsAsked > 0 && failures.size() == shardsAsked && !someMasterServing;
        }
    }

    /**
     * @param capacityBytes      the namespace's budget, split evenly over its shards
     * @param garbageLeaseMillis how long the client that dropped a chunk has to delete its parts before
     *                           other clients' puts are asked to delete them too
     * @param shardCalls         runs a command on many shards at once (and keeps what it learns of a cluster)
     */
    RemoteIndex(RemoteKeys keys, long capacityBytes, long ttlMillis, long garbageLeaseMillis, RemoteShardCalls shardCalls) {
        this.keys = keys;
        this.shardCalls = shardCalls;
        this.capacityBytes = capacityBytes;
        this.shardCapacityBytes = capacityBytes == Long.MAX_VALUE ? Long.MAX_VALUE : capacityBytes / keys.shards();
        this.ttlMillis = ttlMillis;
        this.garbageLeaseMillis = garbageLeaseMillis;
    }

    /** The namespace's budget. */
    long capacityBytes() {
        return capacityBytes;
    }

    /** The budget of each shard: the namespace's divided by the shard count; no larger chunk is admitted. */
    long shardCapacityBytes() {
        return shardCapacityBytes;
    }

    /**
     * Admits a chunk whose parts are written into its shard: evicts the shard's least recently used
     * unpinned chunks as needed, or refuses when even that leaves no room; a chunk already present (and not
     * past its deadline) is left as it is. Takes the headers in {@code deleted} (garbage of the same shard
     * whose parts the caller deleted) out of the shard's garbage set first.
     */
    Admission admit(UnifiedJedis redis, ChunkKey key, long chargedBytes, byte[] header, List<byte[]> deleted) {
        List<byte[]> args = new ArrayList<>(6 + deleted.size());
        args.addAll(List.of(RemoteKeys.member(key), ascii(chargedBytes), header, ascii(shardCapacityBytes), ascii(ttlMillis),
                ascii(garbageLeaseMillis)));
        args.addAll(deleted);
        List<?> r = (List<?>) ADMIT.run(redis, keysOf(key), args.toArray(byte[][]::new));
        long code = (Long) r.get(0);
        long deadline = (Long) r.get(1);
        int victims = ((Long) r.get(2)).intValue();
        List<byte[]> evicted = bytesList(r.subList(3, 3 + victims));
        List<byte[]> garbage = bytesList(r.subList(3 + victims, r.size()));
        Outcome outcome = code == 0 ? Outcome.REFUSED : code == 1 ? Outcome.PRESENT : Outcome.STORED;
        return new Admission(outcome, deadline, evicted, garbage);
    }

    /** The header of a present chunk, which becomes the most recently used of its shard; null when absent. */
    byte[] touch(UnifiedJedis redis, ChunkKey key) {
        return (byte[]) TOUCH.run(redis, keysOf(key), RemoteKeys.member(key));
    }

    /**
     * {@link #touch} of each of {@code chunkKeys} on the direct data path of a standalone server
     * ({@link RespPartWire#evalBulk}): one pipelined round trip, without the client's per-command work.
     */
    byte[][] touchAll(RespPartWire wire, List<ChunkKey> chunkKeys) {
        List<List<byte[]>> k = new ArrayList<>(chunkKeys.size());
        List<byte[][]> a = new ArrayList<>(chunkKeys.size());
        for (ChunkKey key : chunkKeys) {
            k.add(keysOf(key));
            a.add(new byte[][] {RemoteKeys.member(key)});
        }
        return wire.evalBulk(TOUCH, k, a);
    }

    /**
     * Whether each chunk is present: one command per shard involved, in one pipelined round trip per node
     * ({@link RemoteShardCalls}): a plain {@code ZMSCORE} of the shard's {@code lru} when the namespace has
     * no TTL (a few microseconds of the server's time, against a script's tens: measured, docs/SCALING.md),
     * else the {@code contains} script, which also checks each chunk's deadline. The chunks of a shard whose node failed are reported absent, and the
     * failure listed.
     */
    Presence containsAll(UnifiedJedis redis, List<ChunkKey> chunkKeys) {
        boolean[] out = new boolean[chunkKeys.size()];
        if (chunkKeys.isEmpty()) {
            return new Presence(out, 0, List.of(), true);
        }
        List<List<Integer>> byShard = new ArrayList<>(keys.shards());
        for (int s = 0; s < keys.shards(); s++) {
            byShard.add(new ArrayList<>());
        }
        for (int i = 0; i < chunkKeys.size(); i++) {
            byShard.get(keys.shardOf(chunkKeys.get(i))).add(i);
        }
        List<RemoteShardCalls.Call> calls = new ArrayList<>();
        List<List<Integer>> asked = new ArrayList<>();
        for (int s = 0; s < byShard.size(); s++) {
            List<Integer> idx = byShard.get(s);
            if (!idx.isEmpty()) {
                List<byte[]> members = idx.stream().map(i -> RemoteKeys.member(chunkKeys.get(i))).toList();
                calls.add(ttlMillis > 0 ? RemoteShardCalls.Call.script(s, CONTAINS, members)
                        : new RemoteShardCalls.Call(s, (p, k) -> p.zmscore(k.getFirst(), members.toArray(byte[][]::new)), null));
                asked.add(idx);
            }
        }
        Object[] replies = shardCalls.run(redis, calls);
        List<RuntimeException> failures = new ArrayList<>();
        for (int c = 0; c < replies.length; c++) {
            if (replies[c] instanceof RuntimeException e) {
                failures.add(e);
                continue;
            }
            List<?> r = (List<?>) replies[c];
            List<Integer> idx = asked.get(c);
            for (int k = 0; k < idx.size(); k++) {
                Object v = r.get(k); // 1 or 0 from the script; a score or null from ZMSCORE
                out[idx.get(k)] = v instanceof Long n ? n == 1 : v != null;
            }
        }
        return new Presence(out, calls.size(), failures, shardCalls.someMasterServing(redis));
    }

    /**
     * Drops a chunk (only if its header is still {@code expectedHeader}, when given) into its shard's
     * garbage set; its header, or null.
     */
    byte[] forget(UnifiedJedis redis, ChunkKey key, byte[] expectedHeader) {
        return (byte[]) FORGET.run(redis, keysOf(key), RemoteKeys.member(key),
                expectedHeader == null ? new byte[0] : expectedHeader, ascii(garbageLeaseMillis));
    }

    boolean pin(UnifiedJedis redis, ChunkKey key, long timeoutMillis) {
        return (Long) PIN.run(redis, keysOf(key), RemoteKeys.member(key), ascii(timeoutMillis)) == 1;
    }

    void unpin(UnifiedJedis redis, ChunkKey key) {
        UNPIN.run(redis, keysOf(key), RemoteKeys.member(key));
    }

    /**
     * Drops up to {@code max} chunks of {@code shard}, pinned ones included, into its garbage set; their
     * headers (empty once the shard is empty).
     */
    List<byte[]> drain(UnifiedJedis redis, int shard, int max) {
        return bytesList((List<?>) DRAIN.run(redis, keys.indexKeys(shard), ascii(max), ascii(garbageLeaseMillis)));
    }

    /**
     * Records {@code identity} and the shard count as the namespace's when it has none yet, and returns
     * what is recorded: {identity, shard count}.
     */
    String[] claimIdentity(UnifiedJedis redis, String identity) {
        List<?> r = (List<?>) CLAIM.run(redis, keys.homeKeys(), identity.getBytes(StandardCharsets.UTF_8), ascii(keys.shards()));
        return new String[] {new String((byte[]) r.get(0), StandardCharsets.UTF_8), new String((byte[]) r.get(1), StandardCharsets.US_ASCII)};
    }

    /** {chunks, used bytes} of the namespace, summed over its shards (one round trip per node). */
    long[] usage(UnifiedJedis redis) {
        List<RemoteShardCalls.Call> calls = new ArrayList<>(keys.shards());
        for (int s = 0; s < keys.shards(); s++) {
            calls.add(RemoteShardCalls.Call.script(s, USAGE, List.of()));
        }
        long[] total = new long[2];
        for (Object reply : shardCalls.run(redis, calls)) {
            if (reply instanceof RuntimeException e) {
                throw e;
            }
            List<?> r = (List<?>) reply;
            total[0] += (Long) r.get(0);
            total[1] += (Long) r.get(1);
        }
        return total;
    }

    private List<byte[]> keysOf(ChunkKey key) {
        return keys.indexKeys(keys.shardOf(key));
    }

    private static List<byte[]> bytesList(List<?> values) {
        List<byte[]> out = new ArrayList<>(values.size());
        for (Object v : values) {
            if (v instanceof byte[] b) {
                out.add(b);
            }
        }
        return out;
    }

    private static byte[] ascii(long n) {
        return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
    }
}
