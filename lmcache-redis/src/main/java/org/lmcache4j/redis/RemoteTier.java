package org.lmcache4j.redis;

import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.storage.tier.CodecUnavailableException;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.storage.tier.HeldChunkBuffer;
import org.lmcache4j.storage.tier.TierCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;

/**
 * The {@code remote} tier: chunks in a Redis or Valkey server (standalone or cluster) that many engine
 * processes share; one namespace per model, layout, tenant and rank, as everywhere.
 *
 * <p>Implementation notes. A chunk is a header in the namespace's index ({@link RemoteIndex}) and its
 * payload in parts of about 1 MiB ({@link RemoteChunkFormat}, keys in {@link RemoteKeys}). The index is
 * split into shards by chunk key, each in its own hash slot with the parts of its chunks and its share of
 * the budget, so a cluster's masters share the lookups ({@code indexShards}, docs/SCALING.md). A put writes the
 * parts first, in one pipeline, with an expiry; then one script admits the chunk into the index (evicting
 * least recently used unpinned chunks of the namespace to stay within {@code capacity}, or refusing) and
 * records the evicted chunks in the namespace's garbage set; then the parts are made persistent (with a
 * TTL: set to expire just after the index entry) and the evicted chunks' parts, and any garbage the script
 * handed out, deleted. So a chunk is visible only once all its parts exist, parts of a put that never got
 * admitted (a crashed writer) expire, and parts of evicted chunks are deleted by a later put when this one
 * dies before deleting them ({@link RemoteIndex}, garbage). With a TTL, every part outlives its index
 * entry, so the index never answers "present" for a chunk whose parts expired. A get
 * is two round trips: one script marks the chunk used and returns its header, one pipeline fetches every
 * part; the chunk is checked whole (lengths, decompression, CRC32C) into off-heap memory the returned
 * buffer owns. Readers hold a private copy, so eviction and removal never wait for them. On a standalone
 * server without TLS, {@code readInto} (the promotion into a cpu page) runs the header script and reads
 * uncompressed parts straight into the caller's memory, checksummed as they arrive, and {@code put} sends
 * uncompressed parts straight from the payload ({@link RespPartWire}); {@link #readAllInto} does that for a
 * batch of chunks (a retrieve's read-ahead) in two round trips; LZ4 chunks, cluster and TLS URLs go through
 * the client.
 *
 * <p>Codecs. With {@code codec=} in its URL ({@link RemoteCodec}), a put encodes the chunk first, on the
 * writer's thread, and stores the encoding (or the chunk as it is, when that would not be smaller) as above:
 * parts, header with the codec id, the logical length and the checksum of the stored bytes, the budget
 * charged the stored length. Reads take the path above for raw chunks; an encoded chunk's parts go into a
 * buffer of the reading thread's, are checked, and decoded into the caller's memory by the codec the
 * header names, whatever the tier's own setting. A chunk that does not decode, or names a codec not on
 * the path, is a corrupt chunk.
 *
 * <p>Failures. A chunk with a missing, truncated or corrupt part or header is dropped from the index,
 * its parts deleted, counted ({@link #corruptChunks()}, {@link #lostChunks()}, and the stats' errors) and
 * served as a miss. Network failures and timeouts are thrown as {@link UncheckedIOException} (the engine's
 * connector turns them into misses); after {@code breakerFailures} in a row the circuit opens
 * and calls fail at once until a probe succeeds ({@link RedisLink}).
 */
final class RemoteTier implements StorageTier {

    private volatile Consumer<ChunkKey> evictionListener = key -> { };
    private volatile Consumer<ChunkKey> corruptionListener = key -> { };
    private volatile PutSteps putSteps = (step, key) -> { };

    /** The steps of a put between which fault tests stop or delay the writer ({@link #onPutStep}). */
    enum PutStep { PARTS_WRITTEN, ADMITTED }

    /** Called by a put after each {@link PutStep}; what it throws ends the put there, as a dying writer would. */
    @FunctionalInterface
    interface PutSteps {
        void reached(PutStep step, ChunkKey key);
    }

    static final String NAME = "remote";

    /** Parts written but not yet admitted expire after this, so a writer that dies leaves nothing behind. */
    static final long PENDING_PART_MILLIS = 600_000;

    /** With a TTL, parts expire this long after their index entry (clocks of cluster nodes may differ a little). */
    static final long PART_EXPIRY_MARGIN_MILLIS = 1_000;

    /** The longest {@link #stats()} waits for the server's answer; then it reports the last usage read. */
    static final long STATS_WAIT_MILLIS = 500;

    /** Deleted garbage headers one admission confirms at most. */
    private static final int CONFIRM_BATCH = 64;

    private static final Logger LOG = LoggerFactory.getLogger(RemoteTier.class);
    private static final int DRAIN_BATCH = 256;

    private final RedisLink link;
    // The shard count's: replaced together, once, when the namespace's recorded count is adopted on the first
    // claim (RemoteIdentityRecord), before any call gets past serving() to use them.
    private volatile RemoteKeys keys;
    private volatile RemoteIndex index;
    private volatile RemoteGarbage[] garbage; // one per index shard: deleted garbage is confirmed to its own shard
    private final RemoteChunkFormat format;
    private final RemoteCodec codec;
    private final long ttlMillis;
    private final LongAdder corruptChunks = new LongAdder();
    private final java.util.concurrent.atomic.AtomicLong undecodable = new java.util.concurrent.atomic.AtomicLong();
    private final LongAdder lostChunks = new LongAdder();
    private final LongAdder absorbedErrors = new LongAdder();
    private final RemoteIdentityRecord identity;
    private final LongAdder shardFailures = new LongAdder();
    private final RemoteUsage usage;

    /**
     * A tier on the server of {@code url} for one namespace; connects on first use, so an unreachable
     * server makes the tier fail (and recover) at run time, not here.
     *
     * @param namespaceId       {@code CacheNamespace.id()}
     * @param layoutFingerprint {@code KvLayout.fingerprint()}; chunks with another are corrupt
     * @throws IllegalArgumentException for a bad namespace id or fingerprint
     */
    RemoteTier(RemoteUrl url, String namespaceId, String layoutFingerprint, LongSupplier nanoClock) {
        this(url, namespaceId, layoutFingerprint, null, noLayout(url), nanoClock);
    }

    /**
     * The tier of a connector of {@code identity}: its namespace is {@link CacheIdentity#id()}, and on first
     * use it claims the namespace for the identity (recording it when the namespace is new) or, when
     * another identity is recorded there, refuses it: every chunk is then a miss and nothing is written or
     * cleared.
     */
    RemoteTier(RemoteUrl url, CacheIdentity identity, LongSupplier nanoClock) {
        this(url, identity, noLayout(url), nanoClock);
    }

    /**
     * As {@link #RemoteTier(RemoteUrl, CacheIdentity, LongSupplier)}, putting chunks through {@code codec}
     * (chunks read are decoded by the codec that stored them, whatever {@code codec} is).
     */
    RemoteTier(RemoteUrl url, CacheIdentity identity, RemoteCodec codec, LongSupplier nanoClock) {
        this(url, identity.id(), identity.namespace().layoutFingerprint(), identity, codec, nanoClock);
    }

    private RemoteTier(RemoteUrl url, String namespaceId, String layoutFingerprint, CacheIdentity identity, RemoteCodec codec,
                       LongSupplier nanoClock) {
        Objects.requireNonNull(url, "url");
        this.identity = new RemoteIdentityRecord(identity);
        this.codec = Objects.requireNonNull(codec, "codec");
        this.format = new RemoteChunkFormat(layoutFingerprint, url.partBytes(), url.lz4());
        this.ttlMillis = url.ttlSeconds() * 1000;
        shardInto(url, namespaceId, url.indexShards());
        this.link = new RedisLink(url, nanoClock);
        this.usage = new RemoteUsage(() -> serving() ? link.call("stats", index::usage) : null,
                Math.min(STATS_WAIT_MILLIS, url.timeoutMillis()));
    }

    /** Splits the namespace's index into {@code shards}: its keys, its index and the garbage of each shard. */
    private void shardInto(RemoteUrl url, String namespaceId, int shards) {
        RemoteKeys k = new RemoteKeys(url.keyPrefix(), namespaceId, shards);
        RemoteGarbage[] g = new RemoteGarbage[shards];
        for (int i = 0; i < g.length; i++) {
            g[i] = new RemoteGarbage();
        }
        garbage = g;
        // a dead cluster master is probed, and the slot map read again, as often as the breaker probes the whole remote
        index = new RemoteIndex(k, url.capacityBytes(), ttlMillis, garbageLeaseMillis(url.timeoutMillis()),
                new RemoteShardCalls(k, url.timeoutMillis(), url.breakerOpenMillis()));
        keys = k;
    }

    /** Adopts the shard count recorded for the namespace (this connector's was only the default). */
    private void adoptShards(int shards) {
        if (shards != keys.shards()) {
            LOG.info("remote tier {}: namespace {} is split into {} index shards; adopted (this connector's default: {})",
                    link.url(), keys.namespaceId(), shards, keys.shards());
            shardInto(link.url(), keys.namespaceId(), shards);
        }
    }

    /** The codec of a tier opened without a KV layout: raw, or a refusal naming the URL when it names another. */
    private static RemoteCodec noLayout(RemoteUrl url) {
        TierCodec.forTier(url.toString(), url.codec(), null);
        return RemoteCodec.raw();
    }

    /**
     * The remote tier of {@code identity} at {@code url} ({@code LmCacheConfig.remoteUrl()}), storing chunks
     * raw.
     *
     * @throws IllegalArgumentException when the URL is malformed or names a codec (the message says what is expected)
     */
    static RemoteTier open(String url, CacheIdentity identity) {
        RemoteUrl parsed = RemoteUrl.parse(url);
        return logged(parsed, identity, new RemoteTier(parsed, identity, noLayout(parsed), System::nanoTime));
    }

    /**
     * The remote tier of {@code identity} at {@code url}, putting chunks through the codec its {@code codec}
     * option names, for chunks of {@link TierOptions#layout()} (encoded ones at most {@link TierOptions#chunkBytes()}).
     *
     * @throws IllegalArgumentException when the URL is malformed, or its codec is not on the path, cannot encode
     *                                  the layout, or is set without one (the message names the URL)
     */
    static RemoteTier open(String url, CacheIdentity identity, TierOptions options) {
        RemoteUrl parsed = RemoteUrl.parse(url);
        TierCodec codec = TierCodec.forTier(parsed.toString(), parsed.codec(), options.layout()); // the URL without its password
        return logged(parsed, identity, new RemoteTier(parsed, identity, new RemoteCodec(codec, options.chunkBytes()),
                System::nanoTime));
    }

    private static RemoteTier logged(RemoteUrl parsed, CacheIdentity identity, RemoteTier tier) {
        LOG.info("remote tier {}: namespace {} (model {}), capacity {}, {} index shards, ttl {} s, parts of {} bytes, codec {},"
                        + " compression {}, timeout {} ms", parsed, identity.id(), identity.namespace().modelId(),
                parsed.capacityBytes() == Long.MAX_VALUE ? "unbounded" : parsed.capacityBytes() + " bytes", parsed.indexShards(),
                parsed.ttlSeconds(), parsed.partBytes(), tier.codec.name(), parsed.lz4() ? "lz4" : "none", parsed.timeoutMillis());
        return tier;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Presence and reads of many chunks are pipelined: one round trip per batch, not per chunk. */
    @Override
    public boolean prefersBatches() {
        return true;
    }

    /** True with a lossy codec configured: only then are lossy chunks read from here (TierCodec). */
    @Override
    public boolean servesLossy() {
        return codec.lossy();
    }

    @Override
    public boolean contains(ChunkKey key) {
        return containsAll(List.of(key))[0];
    }

    /**
     * Whether each key is stored, in one command per index shard involved and one pipelined round trip per
     * node however many keys (the engine asks this for a whole prompt at once); recency is not touched.
     * On a cluster, the chunks of shards whose node failed are misses (counted, see {@link #shardFailures()}).
     *
     * @throws UncheckedIOException when no node asked answers in time and no other master is known to serve (a single
     *                              server: when it does not answer)
     */
    @Override
    public boolean[] containsAll(List<ChunkKey> chunkKeys) {
        if (!serving()) {
            return new boolean[chunkKeys.size()];
        }
        if (chunkKeys.isEmpty()) {
            link.ensureOpen();
            return new boolean[0];
        }
        String what = "contains " + chunkKeys.size() + " chunks";
        RemoteIndex.Presence p = link.call(what, r -> {
            RemoteIndex.Presence found = index.containsAll(r, chunkKeys);
            if (found.outage()) {
                throw found.failures().getFirst(); // no node answered and none is known to serve: for the breaker
            }
            return found;
        }, found -> found.failures().isEmpty() ? RedisLink.Verdict.SUCCESS : RedisLink.Verdict.NEUTRAL);
        // Some shards failed (or all of this lookup's, while other masters serve): their chunks are misses,
        // counted below. That is no outage (counting it would let one dead master of three open the circuit,
        // and cost every node's chunks) nor a success (which would wipe the failures that calls to the dead
        // master count).
        if (!p.failures().isEmpty()) {
            shardFailures.add(p.failures().size());
            LOG.debug("remote tier {}: {}: {} index shards did not answer (their chunks are misses): {}", link.url(), what,
                    p.failures().size(), p.failures().getFirst().toString());
        }
        return p.found();
    }

    /** Index shards that failed to answer a lookup while others did (their chunks were reported as misses). */
    long shardFailures() {
        return shardFailures.sum();
    }

    /**
     * {@inheritDoc}
     *
     * @throws UncheckedIOException when the server cannot be reached in time
     */
    @Override
    public Optional<ChunkBuffer> get(ChunkKey key) {
        Optional<Fetched> found = fetch(key);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        Fetched f = found.get();
        long size = f.header().logicalBytes();
        Arena arena = Arena.ofShared();
        boolean handedOut = false;
        try {
            format.checkParts(f.header(), f.parts(), f.where()); // before allocating the length the header claims
            codec.checkLogical(f.header(), f.where());
            MemorySegment bytes = arena.allocate(Math.max(1, size), 64).asSlice(0, size);
            assemble(f, bytes);
            handedOut = true;
            return Optional.of(new HeldChunkBuffer(key, bytes, arena::close));
        } catch (CorruptChunkException e) {
            discardUnlessUndecodable(key, f.stored(), f.header(), e);
            return Optional.empty();
        } finally {
            if (!handedOut) {
                arena.close();
            }
        }
    }

    /**
     * {@inheritDoc} The parts of a chunk stored raw are checked and decompressed straight into {@code target}:
     * no buffer of the tier's in between; an encoded chunk's stored bytes go into this thread's buffer
     * ({@link RemoteCodec}), checked, then decoded into {@code target}. On a corrupt chunk {@code target} may
     * hold some of its bytes.
     *
     * @throws UncheckedIOException when the server cannot be reached in time
     */
    @Override
    public long readInto(ChunkKey key, MemorySegment target) {
        if (link.hasWire()) {
            return readDirect(key, target);
        }
        return readFetched(key, fetch(key), target);
    }

    /** Checks, decompresses and decodes the parts {@code found} into {@code target}; -1 on a miss or a corrupt chunk. */
    private long readFetched(ChunkKey key, Optional<Fetched> found, MemorySegment target) {
        if (found.isEmpty()) {
            return -1;
        }
        Fetched f = found.get();
        long size = f.header().logicalBytes();
        try {
            format.checkParts(f.header(), f.parts(), f.where());
            codec.checkLogical(f.header(), f.where());
            if (size > target.byteSize()) {
                throw new IllegalArgumentException(f.where() + ": " + size + " bytes (expected: at most " + target.byteSize()
                        + ", the target's size)");
            }
            assemble(f, target.asSlice(0, size));
            return size;
        } catch (CorruptChunkException e) {
            discardUnlessUndecodable(key, f.stored(), f.header(), e);
            return -1;
        }
    }

    /**
     * Writes the chunk of the parts {@code f}, whose lengths were checked, into {@code dst} (its logical
     * length): straight when stored raw, else through this thread's buffer of stored bytes and the codec.
     *
     * @throws CorruptChunkException when a part does not decompress, the checksum differs or the bytes do not decode
     */
    private void assemble(Fetched f, MemorySegment dst) throws CorruptChunkException {
        RemoteChunkFormat.Header h = f.header();
        if (RemoteCodec.raw(h)) {
            format.assemble(h, f.parts(), dst, f.where());
            return;
        }
        MemorySegment stored = codec.storedBuffer(h.payloadBytes()).asSlice(0, h.payloadBytes());
        format.assemble(h, f.parts(), stored, f.where());
        codec.decode(h, stored, dst, f.where());
    }

    /**
     * {@link #readInto} on the direct data path: the header in one round trip, then the parts in one
     * pipeline straight into {@code target} (an encoded chunk's into this thread's buffer, then decoded),
     * checksummed as they arrive. Compressed chunks are read through the client ({@link #fetch}), as are
     * chunks larger than {@code target} (to fail as it does).
     */
    private long readDirect(ChunkKey key, MemorySegment target) {
        Optional<Header> found = header(key);
        if (found.isEmpty()) {
            return -1;
        }
        List<Header> headers = new ArrayList<>(1);
        headers.add(found.get());
        return readParts(List.of(key), List.of(target), headers)[0];
    }

    /**
     * {@link #readInto} of several chunks, each into its own target, and what each read returned (its
     * length, or -1 on a miss or a corrupt chunk, dropped and counted as {@code readInto} does). On the
     * direct data path the headers come in one pipelined round trip and then every part of every chunk in
     * one pipeline, so the server streams the chunks back to back instead of waiting for this client
     * between them; without it (cluster, TLS) the chunks are read one at a time.
     *
     * @throws UncheckedIOException when the server cannot be reached in time: the whole call fails, and the
     *                              targets may hold some bytes of some chunks
     */
    @Override
    public long[] readAllInto(List<ChunkKey> chunkKeys, List<MemorySegment> targets) {
        if (chunkKeys.size() != targets.size()) {
            throw new IllegalArgumentException("targets: " + targets.size() + " (expected: one per chunk key, " + chunkKeys.size() + ")");
        }
        if (!link.hasWire() || chunkKeys.size() == 1) {
            // chunk by chunk, as the SPI's default: a failure after the first chunk ends the batch as a miss
            return StorageTier.super.readAllInto(chunkKeys, targets);
        }
        long[] out = new long[chunkKeys.size()];
        java.util.Arrays.fill(out, -1);
        if (!serving()) {
            return out;
        }
        byte[][] stored = link.callWire("get " + chunkKeys.size() + " chunks", w -> index.touchAll(w, chunkKeys));
        List<Header> headers = new ArrayList<>(out.length);
        for (int i = 0; i < out.length; i++) {
            headers.add(stored[i] == null ? null : decoded(chunkKeys.get(i), stored[i]).orElse(null));
        }
        return readParts(chunkKeys, targets, headers);
    }

    /**
     * Reads the parts of the chunks whose headers were read (null: a miss) into their targets: the plain
     * ones in one pipeline on the direct data path, checksummed as they arrive (those stored raw straight
     * into their targets, encoded ones into this thread's buffer, side by side, to be decoded after);
     * compressed ones, and ones larger than their target (to fail as {@link #readFetched} does), through
     * the client, first, as they use this thread's buffer too.
     */
    private long[] readParts(List<ChunkKey> chunkKeys, List<MemorySegment> targets, List<Header> headers) {
        long[] out = new long[chunkKeys.size()];
        List<Integer> readOf = new ArrayList<>(out.length);
        long encodedBytes = 0;
        for (int i = 0; i < out.length; i++) {
            Header f = headers.get(i);
            out[i] = -1;
            if (f == null) {
                continue;
            }
            RemoteChunkFormat.Header h = f.header();
            if (h.codec() != RemoteChunkFormat.CODEC_NONE || h.logicalBytes() > targets.get(i).byteSize()) {
                out[i] = readFetched(chunkKeys.get(i), fetchParts(chunkKeys.get(i), f), targets.get(i));
                continue;
            }
            encodedBytes += RemoteCodec.raw(h) ? 0 : h.payloadBytes();
            readOf.add(i);
        }
        if (readOf.isEmpty()) {
            return out;
        }
        MemorySegment encoded = encodedBytes == 0 ? MemorySegment.NULL : codec.storedBuffer(encodedBytes);
        long encodedAt = 0;
        List<RespPartWire.PartRead> reads = new ArrayList<>(readOf.size());
        TierCodec.Decoding[] decodings = new TierCodec.Decoding[out.length];
        for (int i : readOf) {
            RemoteChunkFormat.Header h = headers.get(i).header();
            MemorySegment dst;
            if (RemoteCodec.raw(h)) {
                dst = targets.get(i).asSlice(0, h.payloadBytes());
            } else {
                dst = encoded.asSlice(encodedAt, h.payloadBytes());
                encodedAt += h.payloadBytes();
            }
            byte[][] partKeys = keys.parts(chunkKeys.get(i), h.writeId(), h.parts());
            RespPartWire.PartRead read = new RespPartWire.PartRead(partKeys, h.storedBytes(), dst, new CRC32C());
            if (!RemoteCodec.raw(h)) {
                decodings[i] = decodingOrNull(h, targets.get(i), headers.get(i).where());
                read.whenArrived(decodings[i] == null ? null : decodings[i].overlapped(dst));
            }
            reads.add(read);
        }
        link.callWire("get " + (reads.size() == 1 ? chunkKeys.get(readOf.getFirst()) : reads.size() + " chunks"), w -> {
            w.readChunks(reads);
            return null;
        });
        for (int r = 0; r < reads.size(); r++) {
            int i = readOf.get(r);
            out[i] = checked(chunkKeys.get(i), headers.get(i), reads.get(r), targets.get(i), decodings[i]);
        }
        return out;
    }

    /**
     * The decoding of an encoded chunk into {@code target} as its parts arrive, or null when none can start
     * (no codec here has its id: {@link #decoded} finds that out again, and drops or keeps the chunk).
     */
    private TierCodec.Decoding decodingOrNull(RemoteChunkFormat.Header h, MemorySegment target, String where) {
        try {
            return codec.decoding(h, target.asSlice(0, h.logicalBytes()), where);
        } catch (CorruptChunkException e) {
            return null;
        }
    }

    /**
     * The logical length of a chunk read on the direct data path (an encoded one decoded into {@code target}
     * as its parts arrived, through {@code decoding}, or once its stored bytes are checked when that is
     * null), or -1 when a part was missing or wrong, or it did not decode (dropped, counted).
     */
    private long checked(ChunkKey key, Header f, RespPartWire.PartRead read, MemorySegment target, TierCodec.Decoding decoding) {
        RemoteChunkFormat.Header h = f.header();
        int bad = read.firstBad();
        switch (read.outcome()) {
            case MISSING -> discard(key, f.stored(), h, f.where() + ": part " + bad + " of " + h.parts() + " is missing",
                    lostChunks);
            case WRONG_LENGTH -> discard(key, f.stored(), h, f.where() + ": part " + bad + " does not have "
                    + h.storedBytes()[bad] + " bytes", corruptChunks);
            case WRONG_TYPE -> discard(key, f.stored(), h, f.where() + ": part " + bad + " holds another type of value than"
                    + " a string", corruptChunks);
            // only a chunk after the first of a batch (the first one's is thrown): a miss, the error counted
            case ERROR_REPLY -> absorbed(f.where() + ": part " + bad + " answered an error (served as a miss)",
                    new java.io.IOException(read.error()));
            case READ -> {
                int actual = (int) read.crc.getValue();
                if (actual == h.chunk().payloadCrc()) {
                    return decoded(key, f, read.dst, target, decoding);
                }
                discard(key, f.stored(), h, f.where() + String.format(": payload checksum mismatch (stored 0x%08x, computed 0x%08x)",
                        h.chunk().payloadCrc(), actual), corruptChunks);
            }
        }
        return -1;
    }

    /**
     * The logical length of a chunk whose checked stored bytes are {@code stored}, decoded into {@code target}
     * when encoded (the rest of {@code decoding}'s work when it is not null).
     */
    private long decoded(ChunkKey key, Header f, MemorySegment stored, MemorySegment target, TierCodec.Decoding decoding) {
        RemoteChunkFormat.Header h = f.header();
        if (RemoteCodec.raw(h)) {
            return h.payloadBytes(); // read into the target already
        }
        try {
            if (decoding != null) {
                decoding.finish(stored);
                return h.logicalBytes();
            }
            codec.decode(h, stored, target.asSlice(0, h.logicalBytes()), f.where());
            return h.logicalBytes();
        } catch (CorruptChunkException e) {
            discardUnlessUndecodable(key, f.stored(), h, e);
            return -1;
        }
    }

    /** A chunk's stored header as read and as decoded. */
    private record Header(byte[] stored, RemoteChunkFormat.Header header, String where) {
    }

    /** A chunk's stored header, decoded, and its parts as read, before they are checked. */
    private record Fetched(byte[] stored, RemoteChunkFormat.Header header, byte[][] parts, String where) {
    }

    /**
     * The header and parts of {@code key} in two round trips (the header marks the chunk used); empty on a
     * miss, and when the header is corrupt or a part is missing (the chunk is then dropped and counted).
     */
    private Optional<Fetched> fetch(ChunkKey key) {
        Optional<Header> found = header(key);
        return found.isEmpty() ? Optional.empty() : fetchParts(key, found.get());
    }

    /** The header of {@code key}, marking the chunk used; empty on a miss and when it is corrupt (dropped, counted). */
    private Optional<Header> header(ChunkKey key) {
        if (!serving()) {
            return Optional.empty();
        }
        byte[] stored = link.hasWire() ? link.callWire("get " + key, w -> index.touchAll(w, List.of(key))[0])
                : link.call("get " + key, r -> index.touch(r, key));
        return stored == null ? Optional.empty() : decoded(key, stored);
    }

    /** The header {@code stored} for {@code key}, decoded; empty when it is corrupt (dropped, counted). */
    private Optional<Header> decoded(ChunkKey key, byte[] stored) {
        String where = where(key);
        try {
            return Optional.of(new Header(stored, format.decode(stored, key, where), where));
        } catch (CorruptChunkException e) {
            discardUnlessUndecodable(key, stored, null, e);
            return Optional.empty();
        }
    }

    /** The parts of a chunk whose header was read, through the client; empty when one is missing (dropped, counted). */
    private Optional<Fetched> fetchParts(ChunkKey key, Header found) {
        byte[] stored = found.stored();
        RemoteChunkFormat.Header header = found.header();
        String where = found.where();
        byte[][] partKeys = keys.parts(key, header.writeId(), header.parts());
        byte[][] parts = link.call("get " + key, r -> RemotePartCommands.read(r, partKeys));
        for (int i = 0; i < parts.length; i++) {
            if (parts[i] == null) {
                discard(key, stored, header, where + ": part " + i + " of " + parts.length + " is missing", lostChunks);
                return Optional.empty();
            }
            if (parts[i] == RemotePartCommands.WRONG_TYPE) {
                discard(key, stored, header, where + ": part " + i + " holds another type of value than a string", corruptChunks);
                return Optional.empty();
            }
        }
        return Optional.of(new Fetched(stored, header, parts, where));
    }

    /**
     * {@inheritDoc} The chunk is encoded first when the tier has a codec ({@code codec=}; kept raw when
     * the encoding would not be smaller) and charged its stored length (encoded, not LZ4-compressed)
     * against the namespace's capacity; there is no other size limit, so this never throws
     * IllegalArgumentException.
     *
     * @throws UncheckedIOException when the server cannot be reached in time (no chunk is admitted)
     */
    @Override
    public boolean put(ChunkKey key, MemorySegment payload) {
        codec.requireFits(payload.byteSize(), key);
        if (!serving()) {
            return false;
        }
        if (!codec.encodes() && payload.byteSize() > index.shardCapacityBytes()) {
            link.ensureOpen(); // no round trip for a chunk that can never fit
            return false;
        }
        if (contains(key)) {
            return true; // the first content stays; skip the encoding and the upload
        }
        TierCodec.Encoded chunk = codec.encode(payload); // this thread's buffer: sent before its next put
        long size = chunk.bytes().byteSize();
        if (size > index.shardCapacityBytes()) {
            return false;
        }
        long writeId = ThreadLocalRandom.current().nextLong();
        byte[][] partKeys = keys.parts(key, writeId, format.partsOf(size));
        // With a TTL, the index entry's deadline is set at admission, later than this: the parts must outlive it.
        long expiryMillis = ttlMillis > 0 ? ttlMillis + PENDING_PART_MILLIS : PENDING_PART_MILLIS;
        byte[] header;
        try {
            header = writeParts(key, chunk, writeId, partKeys, expiryMillis);
        } catch (UncheckedIOException e) {
            // Say the server is out of memory: remove what was written now rather than at its expiry.
            if (link.healthy()) {
                deleteParts(List.of(partKeys), "put " + key);
            }
            throw e;
        }
        putSteps.reached(PutStep.PARTS_WRITTEN, key);
        // If this call fails, admitted or not, the parts expire unless made persistent: a later get is a miss.
        RemoteGarbage shardGarbage = garbage[keys.shardOf(key)];
        List<byte[]> confirmed = shardGarbage.take(CONFIRM_BATCH);
        RemoteIndex.Admission admission;
        try {
            admission = link.call("put " + key, r -> index.admit(r, key, size, header, confirmed));
        } catch (RuntimeException e) {
            shardGarbage.deleted(confirmed); // perhaps not taken out: say so again (taking out twice is harmless)
            throw e;
        }
        if (admission.outcome() != RemoteIndex.Outcome.STORED) {
            // refused, or another put of the key won: delete our parts, and the garbage handed to us
            List<byte[]> ours = List.of(partKeys);
            deleteChunks(shardGarbage, admission.garbageHeaders(), ours, "put " + key);
            return admission.outcome() == RemoteIndex.Outcome.PRESENT;
        }
        putSteps.reached(PutStep.ADMITTED, key);
        List<byte[]> dropped = new ArrayList<>(admission.evictedHeaders());
        dropped.addAll(admission.garbageHeaders());
        for (byte[] evicted : admission.evictedHeaders()) {
            keyOf(evicted).ifPresent(this::tellEvicted);
        }
        List<byte[]> doomed = partKeysOf(dropped);
        long partsExpireAt = admission.deadlineMillis() > 0 ? admission.deadlineMillis() + PART_EXPIRY_MARGIN_MILLIS : 0;
        try {
            link.call("put " + key, r -> RemotePartCommands.finish(r, partKeys, partsExpireAt, doomed));
            shardGarbage.deleted(dropped);
        } catch (UncheckedIOException e) {
            absorbed("put " + key + ": admitted, but making its parts persistent or deleting evicted parts failed"
                    + " (a later put deletes them)", e);
        }
        return true;
    }

    /**
     * Writes the stored bytes of {@code chunk} as parts at {@code partKeys} in one pipeline and returns the
     * chunk's header: straight from its bytes, checksummed as they are sent, on the direct data path when
     * there is one and parts are not compressed; else cut into parts first and sent through the client.
     */
    private byte[] writeParts(ChunkKey key, TierCodec.Encoded chunk, long writeId, byte[][] partKeys, long expiryMillis) {
        MemorySegment stored = chunk.bytes();
        String what = "put " + key + " (" + stored.byteSize() + " bytes)";
        if (link.hasWire() && !format.compresses()) {
            CRC32C crc = new CRC32C();
            link.callWire(what, w -> {
                w.writeParts(partKeys, stored, format.partBytes(), expiryMillis, crc);
                return null;
            });
            return format.plainHeader(key, new DiskChunkFormat.Stored(chunk.codecId(), chunk.logicalBytes(), stored.byteSize(),
                    (int) crc.getValue()), writeId);
        }
        RemoteChunkFormat.Encoded parts = format.encode(key, chunk, writeId);
        link.call(what, r -> RemotePartCommands.write(r, partKeys, parts.parts(), expiryMillis));
        return parts.header();
    }

    @Override
    public boolean remove(ChunkKey key) {
        if (!serving()) {
            return false;
        }
        byte[] header = link.call("remove " + key, r -> index.forget(r, key, null));
        if (header == null) {
            return false;
        }
        deleteChunks(garbage[keys.shardOf(key)], List.of(header), List.of(), "remove " + key);
        return true;
    }

    /** {@inheritDoc} Pins live in the server with the server's clock, so every engine sharing it honours them. */
    @Override
    public boolean pin(ChunkKey key, Duration timeout) {
        if (!serving()) {
            return false;
        }
        long millis = Math.max(1, timeout.toMillis());
        return link.call("pin " + key, r -> index.pin(r, key, millis));
    }

    @Override
    public void unpin(ChunkKey key) {
        if (!serving()) {
            return;
        }
        link.call("unpin " + key, r -> {
            index.unpin(r, key);
            return null;
        });
    }

    /** {@inheritDoc} Removes the namespace's chunks for every engine sharing it. */
    @Override
    public void clear() {
        if (!serving()) {
            return; // another identity's chunks are not ours to remove
        }
        for (int shard = 0; shard < keys.shards(); shard++) {
            int s = shard;
            for (;;) {
                List<byte[]> headers = link.call("clear", r -> index.drain(r, s, DRAIN_BATCH));
                deleteChunks(garbage[s], headers, List.of(), "clear");
                if (headers.size() < DRAIN_BATCH) {
                    break;
                }
            }
        }
    }

    /**
     * {@inheritDoc} Chunks and used bytes are the namespace's, shared by every engine using it, read in one
     * round trip that is waited for at most {@value #STATS_WAIT_MILLIS} ms ({@link RemoteUsage}); when the
     * server cannot be reached (or answer) in that time, the last values read are reported with
     * {@code healthy} false. Errors count corrupt and lost chunks and failures the tier absorbed, not the
     * exceptions it threw, and index shards of a cluster that failed to answer a lookup.
     */
    @Override
    public TierStats stats() {
        RemoteUsage.Reading r = usage.read();
        boolean refused = identity.mismatch().isPresent();
        return new TierStats(NAME, refused ? 0 : r.chunks(), refused ? 0 : r.usedBytes(), index.capacityBytes(),
                corruptChunks.sum() + lostChunks.sum() + absorbedErrors.sum() + shardFailures.sum(), r.ok() && !refused && link.healthy(),
                codec.lossyChunksRead());
    }

    @Override
    public Optional<String> identityMismatch() {
        return identity.mismatch();
    }

    /** True while this tier may use its namespace ({@link RemoteIdentityRecord}; claims it on first use). */
    private boolean serving() {
        return identity.serving(link, index, keys, link.url().indexShardsGiven(), this::adoptShards);
    }

    /** Closes the connections; the chunks stay in the server for other engines and the next start. */
    @Override
    public void close() {
        link.close();
    }

    /** Chunks dropped because a header or part was corrupt (wrong bytes, length or checksum). */
    long corruptChunks() {
        return corruptChunks.sum();
    }

    /** Chunks dropped because a part was gone (evicted or expired by the server, or deleted by hand). */
    long lostChunks() {
        return lostChunks.sum();
    }

    /** The link (tests look at its breaker). */
    RedisLink link() {
        return link;
    }

    RemoteKeys keys() {
        return keys;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private String where(ChunkKey key) {
        return "remote tier " + link.url() + ": chunk " + key;
    }

    /** How long a client that dropped chunks has to delete their parts before later puts delete them too. */
    static long garbageLeaseMillis(int timeoutMillis) {
        return 2L * timeoutMillis;
    }

    /** Fault tests: who to call after each step of a put (a writer that dies or stalls there). */
    void onPutStep(PutSteps steps) {
        this.putSteps = steps;
    }

    @Override
    public void onEviction(Consumer<ChunkKey> listener) {
        this.evictionListener = listener == null ? key -> { } : listener;
    }

    @Override
    public void onCorruption(Consumer<ChunkKey> listener) {
        this.corruptionListener = listener == null ? key -> { } : listener;
    }

    private void tellEvicted(ChunkKey key) {
        try {
            evictionListener.accept(key);
        } catch (RuntimeException e) {
            absorbed("eviction listener failed for " + key, e);
        }
    }

    /** The chunk key named by a stored header, when it can be read. */
    private Optional<ChunkKey> keyOf(byte[] header) {
        try {
            return Optional.of(format.decode(header, null, "remote tier " + link.url() + ": evicted chunk").chunk().key());
        } catch (CorruptChunkException e) {
            return Optional.empty();
        }
    }

    /** The part keys named by stored headers; a header that cannot be read names none (and is counted). */
    private List<byte[]> partKeysOf(List<byte[]> headers) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] header : headers) {
            try {
                RemoteChunkFormat.Header h = format.decode(header, null, "remote tier " + link.url() + ": dropped chunk");
                out.addAll(List.of(keys.parts(h.chunk().key(), h.writeId(), h.parts())));
            } catch (CorruptChunkException e) {
                absorbed("cannot delete the parts of a dropped chunk (they stay until the server evicts them)", e);
            }
        }
        return out;
    }

    /** Deletes parts not in the garbage set (a put's own, never admitted); they expire anyway when this fails. */
    private void deleteParts(List<byte[]> partKeys, String what) {
        deleteChunks(null, List.of(), partKeys, what);
    }

    /**
     * Deletes the parts of dropped chunks (their headers in the garbage set of the shard whose deletions
     * {@code shardGarbage} holds) and {@code moreParts}; once done, the headers are confirmed to that shard
     * with its next admission. When this fails, the garbage set still names them, and a later put deletes them.
     */
    private void deleteChunks(RemoteGarbage shardGarbage, List<byte[]> headers, List<byte[]> moreParts, String what) {
        List<byte[]> partKeys = new ArrayList<>(partKeysOf(headers));
        partKeys.addAll(moreParts);
        if (partKeys.isEmpty()) {
            if (shardGarbage != null) {
                shardGarbage.deleted(headers);
            }
            return;
        }
        try {
            link.call(what, r -> RemotePartCommands.finish(r, new byte[0][], 0, partKeys));
            if (shardGarbage != null) {
                shardGarbage.deleted(headers);
            }
        } catch (UncheckedIOException e) {
            absorbed(what + ": deleting " + partKeys.size() + " parts failed (a later put deletes them)", e);
        }
    }

    /**
     * {@link #discard}s a corrupt chunk; one whose codec this process lacks is a miss here and stays in the
     * store, where connectors with the codec read it.
     */
    private void discardUnlessUndecodable(ChunkKey key, byte[] stored, RemoteChunkFormat.Header header, CorruptChunkException e) {
        if (e instanceof CodecUnavailableException) {
            long n = undecodable.incrementAndGet();
            if (n <= 10 || Long.bitCount(n) == 1) {
                LOG.warn("{}; a miss here, left for connectors that can decode it ({} such reads so far)", e.getMessage(), n);
            }
            return;
        }
        discard(key, stored, header, e.getMessage(), corruptChunks);
    }

    /**
     * Drops a chunk that cannot be served if the index still holds this copy, deletes its parts, counts it and tells the
     * listener. A copy the index no longer holds was evicted, removed or dropped meanwhile by whoever told of it (a reader
     * racing an eviction finds its parts gone): a plain miss, not counted or told twice.
     */
    private void discard(ChunkKey key, byte[] stored, RemoteChunkFormat.Header header, String why, LongAdder counter) {
        byte[] dropped;
        try {
            dropped = link.call("drop " + key, r -> index.forget(r, key, stored));
        } catch (UncheckedIOException e) {
            absorbed("drop " + key + " failed (" + why + ")", e);
            return;
        }
        if (dropped == null) {
            return;
        }
        counter.increment();
        LOG.warn("{}; dropped, served as a miss", why);
        try {
            // a lost part was evicted or expired by the server; anything else is damage
            (counter == lostChunks ? evictionListener : corruptionListener).accept(key);
        } catch (RuntimeException e) {
            absorbed("listener failed for " + key, e);
        }
        RemoteGarbage shardGarbage = garbage[keys.shardOf(key)];
        try {
            if (header != null) {
                deleteChunks(shardGarbage, List.of(dropped), List.of(), "drop " + key);
            } else {
                shardGarbage.deleted(List.of(dropped)); // an unreadable header names no parts we could find
            }
        } catch (UncheckedIOException e) {
            absorbed("drop " + key + " failed", e);
        }
    }

    private void absorbed(String what, Exception e) {
        absorbedErrors.increment();
        LOG.warn("remote tier {}: {}: {}", link.url(), what, e.getMessage());
    }
}
