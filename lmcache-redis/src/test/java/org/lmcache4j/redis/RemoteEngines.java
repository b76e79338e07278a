package org.lmcache4j.redis;

import java.lang.foreign.Arena;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.testing.SeededKv;

/**
 * Engines with a cpu tier and a remote tier, opened from {@code remoteUrl} as an engine opens them:
 * chunks of 64 tokens of {@link Engines#SMALL} (8 KiB), parts of 4 KiB.
 */
final class RemoteEngines {

    static final int CHUNK = 64;

    private RemoteEngines() {
    }

    static LmCacheConfig config() {
        return Engines.config().chunkTokens(CHUNK).maxLocalCpuBytes(32 * Engines.SMALL.chunkBytes(CHUNK)).build();
    }

    /**
     * An engine of {@code config} with the remote tier at {@code url} (options like {@code ?timeoutMillis=300}
     * allowed), opened from the config alone: the URL reaches this module's provider through the SPI.
     */
    static KvConnector open(LmCacheConfig config, String url) {
        String withParts = url + (url.contains("?") ? "&" : "?") + "partBytes=4k";
        return Engines.open(config.toBuilder().remoteUrl(withParts).build());
    }

    /** The remote tier's stats in {@code stats}. */
    static TierStats remote(CacheStats stats) {
        return stats.tiers().stream().filter(t -> t.name().equals(RemoteTier.NAME)).findFirst().orElseThrow();
    }

    /** Waits (at most 10 s) until the engine has written every queued chunk behind. */
    static void awaitWriteBehind(KvConnector engine) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (engine.stats().writeBehindQueued() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        try {
            Thread.sleep(20); // the chunk taken last may still be in flight
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Seeded KV of a prompt: tokens, their KV in contiguous memory, identity slots. */
    record Prompt(int[] tokens, HostKvMemory kv, int[] slots) {

        static Prompt of(Arena arena, long seed, int n) {
            int[] tokens = SeededKv.tokens(seed, n);
            HostKvMemory kv = SeededKv.contiguous(arena, Engines.SMALL, n);
            int[] slots = SeededKv.identitySlots(n);
            SeededKv.fill(kv, tokens, slots);
            return new Prompt(tokens, kv, slots);
        }

        /** Retrieves this prompt through {@code engine} into fresh memory; returns tokens retrieved, checks bytes. */
        int retrieveAndCheck(Arena arena, KvConnector engine) {
            HostKvMemory target = SeededKv.paged(arena, Engines.SMALL, tokens.length / 16 + 1, 16);
            int[] targetSlots = SeededKv.shuffledSlots(tokens.length, tokens.length, target.numSlots());
            int got = engine.retrieve(tokens, target, targetSlots);
            SeededKv.assertSameKv(kv, slots, target, targetSlots, 0, got);
            return got;
        }
    }
}
