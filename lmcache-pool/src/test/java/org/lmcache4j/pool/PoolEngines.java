package org.lmcache4j.pool;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.SeededKv;

/** Connectors on a pool, as engines of one node open them: no cpu tier of their own, the pool as their first tier. */
final class PoolEngines {

    /** 2 layers, 2 KV heads of 8 fp16 elements: 128 bytes per token. */
    static final KvLayout LAYOUT = KvLayout.standard(2, 2, 8, KvDtype.FP16);
    static final int CHUNK = 16;
    /** A slot: one 2 KiB chunk rounded to a page. */
    static final long SLOT = PoolFile.slotBytesFor(LAYOUT.chunkBytes(CHUNK));

    private PoolEngines() {
    }

    /** The pool URL of {@code root} holding {@code slots} chunks, with {@code extra} options. */
    static String url(Path root, int slots, String extra) {
        return "pool://" + root.toUri().getRawPath() + "?size=" + slots * SLOT + (extra.isEmpty() ? "" : "&" + extra);
    }

    static LmCacheConfig config(String poolUrl) {
        return LmCacheConfig.builder().modelId("pool-engine").chunkTokens(CHUNK).localCpu(false).localDisk(null)
                .tiers(List.of(poolUrl)).build();
    }

    static KvConnector open(String poolUrl) {
        return KvConnectors.open(config(poolUrl), LAYOUT);
    }

    /** The pool's name for these connectors: the identity's directory name. */
    static String poolName() {
        return config("pool:///x").identity(LAYOUT).directoryName();
    }

    /** A tier on the engines' own pool (their identity), to ask its coordinator for fsck. */
    static SharedPoolTier probe(String url) {
        return (SharedPoolTier) org.lmcache4j.api.spi.StorageTiers.open(url, config(url).identity(LAYOUT),
                new org.lmcache4j.api.spi.TierOptions(LAYOUT.chunkBytes(CHUNK), 0));
    }

    /** A full chunk's payload of this layout, bytes derived from {@code seed}. */
    static byte[] chunkPayload(int seed) {
        byte[] bytes = new byte[(int) LAYOUT.chunkBytes(CHUNK)];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * seed + 7);
        }
        return bytes;
    }

    /** A prompt of {@code chunks} full chunks of seeded tokens, its KV in fresh memory at identity slots. */
    record Prompt(int[] tokens, HostKvMemory kv, int[] slots) {
        static Prompt of(Arena arena, long seed, int chunks, boolean filled) {
            int[] t = SeededKv.tokens(seed, chunks * CHUNK);
            HostKvMemory kv = SeededKv.contiguous(arena, LAYOUT, t.length);
            int[] slots = SeededKv.identitySlots(t.length);
            if (filled) {
                SeededKv.fill(kv, t, slots);
            }
            return new Prompt(t, kv, slots);
        }
    }
}
