package org.lmcache4j.storage;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.function.UnaryOperator;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.testing.SeededKv;

/**
 * Engines with a cpu tier and a remote tier, as {@code TieredCacheEngine} will open them from
 * {@code remoteUrl} once wired: chunks of 64 tokens of {@link Engines#SMALL} (8 KiB), parts of 4 KiB.
 */
final class RemoteEngines {

    static final int CHUNK = 64;

    private RemoteEngines() {
    }

    static LmCacheConfig config() {
        return Engines.config().chunkTokens(CHUNK).maxLocalCpuBytes(32 * Engines.SMALL.chunkBytes(CHUNK)).build();
    }

    /** An engine of {@code config} with the remote tier at {@code url} (options like {@code ?timeoutMillis=300} allowed). */
    static TieredCacheEngine open(LmCacheConfig config, String url) {
        String withParts = url + (url.contains("?") ? "&" : "?") + "partBytes=4k";
        return new TieredCacheEngine(config, Engines.SMALL, System::nanoTime, UnaryOperator.identity(),
                List.of(RemoteTier.open(withParts, config.identity(Engines.SMALL))));
    }

    /** The remote tier's stats in {@code stats}. */
    static TierStats remote(CacheStats stats) {
        return stats.tiers().stream().filter(t -> t.name().equals(RemoteTier.NAME)).findFirst().orElseThrow();
    }

    /** Waits (at most 10 s) until the engine has written every queued chunk behind. */
    static void awaitWriteBehind(TieredCacheEngine engine) {
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
        int retrieveAndCheck(Arena arena, TieredCacheEngine engine) {
            HostKvMemory target = SeededKv.paged(arena, Engines.SMALL, tokens.length / 16 + 1, 16);
            int[] targetSlots = SeededKv.shuffledSlots(tokens.length, tokens.length, target.numSlots());
            int got = engine.retrieve(tokens, target, targetSlots);
            SeededKv.assertSameKv(kv, slots, target, targetSlots, 0, got);
            return got;
        }
    }
}
