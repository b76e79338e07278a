package org.lmcache4j.redis;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.testing.SeededKv;

/**
 * Child-process main of {@link RemoteFleetRun}: one engine process driving one connector against the
 * remote tier at a URL, as one inference engine of a fleet would.
 *
 * <pre>
 *   preload URL PROMPTS                               stores the shared prompts 0..PROMPTS-1, closes (drained)
 *   run URL ENGINE PROMPTS HIT_RATIO START_MS SECONDS  from START_MS (epoch) for SECONDS: each request looks
 *       its prompt up, then retrieves it (a shared prompt, with probability HIT_RATIO) or stores it (a
 *       prompt of its own, never seen before) and waits until the write-behind wrote it; prints "requests R hits H misses M remoteHitChunks C"
 * </pre>
 * Layout {@link #LAYOUT} (16 KiB of KV per token), chunks of {@value #CHUNK_TOKENS} tokens (4 MiB), prompts
 * of {@value #PROMPT_TOKENS} tokens (4 chunks, 16 MiB); the cpu tier holds 2 prompts, so shared prompts are
 * served by the remote tier, not the engine's own memory.
 */
public final class RemoteFleetEngine {

    static final KvLayout LAYOUT = KvLayout.standard(8, 8, 64, KvDtype.FP16);
    static final int CHUNK_TOKENS = 256;
    static final int PROMPT_TOKENS = 1024;

    private RemoteFleetEngine() {
    }

    static LmCacheConfig config() {
        return LmCacheConfig.builder().modelId("fleet-model").chunkTokens(CHUNK_TOKENS).noLocalDisk()
                .maxLocalCpuBytes(2L * LAYOUT.chunkBytes(CHUNK_TOKENS) * (PROMPT_TOKENS / CHUNK_TOKENS)).build();
    }

    public static void main(String[] args) throws Exception {
        String url = args[1];
        LmCacheConfig config = config();
        try (Arena arena = Arena.ofShared();
             KvConnector engine = KvConnectors.open(config.toBuilder().remoteUrl(url).build(), LAYOUT)) {
            HostKvMemory kv = SeededKv.contiguous(arena, LAYOUT, PROMPT_TOKENS);
            int[] slots = SeededKv.identitySlots(PROMPT_TOKENS);
            SeededKv.fill(kv, SeededKv.tokens(0, PROMPT_TOKENS), slots);
            HostKvMemory target = SeededKv.contiguous(arena, LAYOUT, PROMPT_TOKENS);
            if (args[0].equals("preload")) {
                int prompts = Integer.parseInt(args[2]);
                for (int i = 0; i < prompts; i++) {
                    engine.store(SeededKv.tokens(i, PROMPT_TOKENS), kv, slots);
                    awaitWriteBehind(engine);
                }
                System.out.println("stored " + prompts);
                return;
            }
            int me = Integer.parseInt(args[2]);
            int prompts = Integer.parseInt(args[3]);
            double hitRatio = Double.parseDouble(args[4]);
            long startMillis = Long.parseLong(args[5]);
            long seconds = Long.parseLong(args[6]);
            SplittableRandom r = new SplittableRandom(me);
            long wait = startMillis - System.currentTimeMillis();
            if (wait > 0) {
                Thread.sleep(wait);
            }
            long before = remoteHits(engine.stats());
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            long requests = 0;
            long hits = 0;
            long own = 0;
            while (System.nanoTime() < end) {
                requests++;
                if (r.nextDouble() < hitRatio) {
                    int[] tokens = SeededKv.tokens(r.nextInt(prompts), PROMPT_TOKENS);
                    engine.lookup(tokens);
                    if (engine.retrieve(tokens, target, slots) == PROMPT_TOKENS) {
                        hits++;
                    }
                } else {
                    int[] tokens = SeededKv.tokens(((long) (me + 1) << 32) + own++, PROMPT_TOKENS);
                    engine.lookup(tokens);
                    engine.store(tokens, kv, slots);
                    awaitWriteBehind(engine); // every stored chunk reaches the remote tier
                }
            }
            System.out.println("requests " + requests + " hits " + hits + " misses " + (requests - hits) + " remoteHitChunks "
                    + (remoteHits(engine.stats()) - before));
        }
        System.out.flush();
    }

    /** Waits until the write-behind queue is empty, polling without spinning (8 engines share the cores). */
    private static void awaitWriteBehind(KvConnector engine) throws InterruptedException {
        while (engine.stats().writeBehindQueued() > 0) {
            Thread.sleep(1);
        }
    }

    private static long remoteHits(CacheStats s) {
        return s.promotedChunks();
    }
}
