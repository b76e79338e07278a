package org.lmcache4j.fs;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.fs.FsEngines.Prompt;

/**
 * Child-process main of {@link SharedFsProcessesIT}: one engine of several on one shared directory.
 *
 * <pre>
 *   URL CHILD CHILDREN PROMPTS SECONDS
 * </pre>
 * For {@code SECONDS}, picks one of {@code PROMPTS} prompts at random, retrieves it (checking every byte of
 * the hit against the KV computed from its tokens) and stores it when it is one of this child's
 * ({@code seed % CHILDREN == CHILD}): the others only another process stores. Prints one line,
 * {@code iterations=... hitTokens=... foreignHitTokens=... fsHitTokens=... mismatches=... exceptions=... fsErrors=...},
 * and a line on standard error for each mismatch or exception.
 */
public final class FsEngineChild {

    private FsEngineChild() {
    }

    public static void main(String[] args) {
        String url = args[0];
        int child = Integer.parseInt(args[1]);
        int children = Integer.parseInt(args[2]);
        int prompts = Integer.parseInt(args[3]);
        long deadline = System.nanoTime() + Long.parseLong(args[4]) * 1_000_000_000L;
        long iterations = 0;
        long hitTokens = 0;
        long foreignHitTokens = 0;
        long mismatches = 0;
        long exceptions = 0;
        CacheStats stats;
        try (Arena arena = Arena.ofShared(); KvConnector engine = FsEngines.open(url, 8)) {
            Prompt[] all = new Prompt[prompts];
            for (int s = 0; s < prompts; s++) {
                all[s] = Prompt.of(arena, s);
            }
            SplittableRandom random = new SplittableRandom(child * 7919L + System.nanoTime());
            while (System.nanoTime() < deadline) {
                Prompt p = all[random.nextInt(prompts)];
                boolean own = p.seed() % children == child;
                try {
                    int got = p.retrieveAndCheck(engine);
                    hitTokens += got;
                    if (!own) {
                        foreignHitTokens += Math.max(0, got - FsEngines.PREFIX_CHUNKS * FsEngines.CHUNK);
                    }
                    if (own) {
                        p.store(engine);
                    }
                } catch (AssertionError e) {
                    mismatches++;
                    System.err.println("child " + child + " prompt " + p.seed() + ": " + e.getMessage());
                } catch (RuntimeException e) {
                    exceptions++;
                    e.printStackTrace();
                }
                iterations++;
            }
            stats = engine.stats();
        }
        System.out.println("iterations=" + iterations + " hitTokens=" + hitTokens + " foreignHitTokens=" + foreignHitTokens
                + " fsHitTokens=" + stats.retrievedTokensByTier().getOrDefault(SharedFsTier.NAME, 0L) + " mismatches=" + mismatches
                + " exceptions=" + exceptions + " fsErrors=" + FsEngines.fs(stats).errors());
        System.out.flush();
    }
}
