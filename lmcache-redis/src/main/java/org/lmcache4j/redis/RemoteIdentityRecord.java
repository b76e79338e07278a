package org.lmcache4j.redis;

import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.function.IntConsumer;
import org.lmcache4j.api.CacheIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote tier's claim on its namespace for one {@link CacheIdentity}, made on the first call that
 * reaches the server (one round trip, once): the namespace's {@code meta} hash records the identity when
 * it has none (a new namespace, or one whose record the server lost: its name is the identity's digest,
 * so only a connector of the same identity wrote there); a namespace recorded for another identity, or
 * split into another number of index shards than the {@code indexShards} option says (whose keys and
 * budgets this connector would not see), is refused for good, and the tier then serves, writes and clears
 * nothing. Without the option, the connector adopts the recorded count: its own default depends on its
 * capacity, and engines of different capacities must share a namespace.
 */
final class RemoteIdentityRecord {

    private static final Logger LOG = LoggerFactory.getLogger(RemoteIdentityRecord.class);

    private final CacheIdentity identity; // null for a tier used without a connector (tier tests, benchmarks)
    private volatile boolean claimed;
    private volatile String mismatch; // null while the namespace is ours

    RemoteIdentityRecord(CacheIdentity identity) {
        this.identity = identity;
    }

    /**
     * True while the tier may use its namespace; claims it first if not done yet.
     *
     * @throws UncheckedIOException when the server cannot be reached in time (the claim is tried again later)
     */
    boolean serving(RedisLink link, RemoteIndex index, RemoteKeys keys, boolean countGiven, IntConsumer adoptShards) {
        if (identity == null || claimed) {
            return mismatch == null;
        }
        String[] recorded = link.call("claim namespace " + keys.namespaceId(), r -> index.claimIdentity(r, identity.describe()));
        String differences = identity.differences(recorded[0]);
        int recordedShards = shardCount(recorded[1]);
        if (differences.isEmpty() && recordedShards != keys.shards() && !countGiven && recordedShards > 0) {
            // The count is the namespace's, recorded by the first claim; this connector's was a default (which
            // depends on its capacity), so it takes the recorded one and shares the keys and budgets.
            adoptShards.accept(recordedShards);
        } else if (differences.isEmpty() && recordedShards != keys.shards()) {
            mismatch = "remote tier " + link.url() + ": namespace " + keys.namespaceId() + " is split into " + recorded[1]
                    + " index shards (this connector: " + keys.shards() + ", the indexShards option): refused, nothing in it is"
                    + " served or changed; every engine sharing a namespace must use one shard count (without the option, an"
                    + " engine adopts the namespace's)";
            LOG.warn("{}; this connector runs without the remote tier", mismatch);
        } else if (!differences.isEmpty()) {
            mismatch = "remote tier " + link.url() + ": namespace " + keys.namespaceId()
                    + " holds KV of another cache identity (" + differences + "): refused, nothing in it is served or changed";
            LOG.warn("{}; this connector runs without the remote tier", mismatch);
        }
        claimed = true;
        return mismatch == null;
    }

    /** The recorded shard count, or -1 when it is not one ({@code 1} to {@value RemoteUrl#MAX_INDEX_SHARDS}). */
    private static int shardCount(String recorded) {
        try {
            int n = Integer.parseInt(recorded);
            return n >= 1 && n <= RemoteUrl.MAX_INDEX_SHARDS ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Why the namespace is refused, once a claim found another identity. */
    Optional<String> mismatch() {
        return Optional.ofNullable(mismatch);
    }
}
