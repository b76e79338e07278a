package org.lmcache4j.pool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.spi.StorageTier;
import org.lmcache4j.api.spi.StorageTierProvider;
import org.lmcache4j.api.spi.TierOptions;
import org.lmcache4j.storage.tier.TierUrl;

/**
 * Opens the node-shared pool from {@code pool:///dev/shm/lmcache4j?size=8g}: the directory holds the coordinator's
 * socket and lock and one pool file per identity ({@link CacheIdentity#directoryName()}). Options:
 * {@code size} (the pool's bytes when this engine's coordinator creates it; default 1g), {@code embed}
 * ({@code true}, the default: start a coordinator in this JVM when none answers; {@code false}: only use one
 * started by {@code bin/lmcache pool}), {@code lease} (how long a hold or write may last, default 30s; used by an
 * embedded coordinator), {@code timeoutMillis} (the longest a call waits for the coordinator's answer before it is a
 * miss, default 2000).
 */
public final class SharedPoolTierProvider implements StorageTierProvider {

    static final Set<String> OPTIONS = Set.of("size", "embed", "lease", "timeoutMillis");
    private static final long DEFAULT_SIZE = 1L << 30;

    /** For {@link java.util.ServiceLoader}. */
    public SharedPoolTierProvider() {
    }

    @Override
    public Set<String> schemes() {
        return Set.of("pool");
    }

    @Override
    public StorageTier open(String url, CacheIdentity identity, TierOptions options) {
        TierUrl u = TierUrl.parse(url, "pool", OPTIONS);
        Path dir = u.directory();
        long size = u.bytes("size", DEFAULT_SIZE, 1);
        String embed = u.options().getOrDefault("embed", "true");
        if (!embed.equals("true") && !embed.equals("false")) {
            throw TierUrl.bad(url, "embed=" + embed, "true or false");
        }
        Duration lease = Duration.ofMillis(u.millis("lease", PoolCoordinator.DEFAULT_LEASE.toMillis(), 1));
        Duration timeout = Duration.ofMillis(u.millis("timeoutMillis", PoolConnection.DEFAULT_TIMEOUT.toMillis(), 1));
        long slotBytes = PoolFile.slotBytesFor(options.chunkBytes());
        if (size < slotBytes) {
            throw TierUrl.bad(url, "size=" + size, "at least one slot of " + slotBytes + " bytes (a full chunk, page-rounded)");
        }
        int slots = (int) Math.min(Integer.MAX_VALUE, size / slotBytes);
        try {
            return new SharedPoolTier(new PoolConnection(dir, identity.directoryName(), slotBytes, slots, embed.equals("true"), lease,
                    timeout),
                    slots * slotBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("pool " + dir + ": " + e.getMessage(), e);
        }
    }
}
