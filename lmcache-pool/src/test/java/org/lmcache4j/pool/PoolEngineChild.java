package org.lmcache4j.pool;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.testing.SeededKv;

/**
 * An engine JVM on a pool, for the multi-process tests. Modes:
 * <ul>
 *   <li>{@code store URL SEED CHUNKS}: stores that seeded prompt, prints {@code stored N}, waits for a line on stdin.</li>
 *   <li>{@code check URL SEED CHUNKS}: retrieves it into fresh memory, checks every byte, prints {@code ok N} (exit 0)
 *       or {@code BAD ...} (exit 3).</li>
 *   <li>{@code churn URL SEED}: forever, picks one of 8 shared prompts, retrieves what the pool holds of it, checks
 *       every byte (exit 3 and {@code BAD ...} on any difference), stores it when it was not whole; prints
 *       {@code progress HITS MISSES} every 100 ms.</li>
 * </ul>
 */
public final class PoolEngineChild {

    static final int CHURN_PROMPTS = 8;
    static final int CHURN_CHUNKS = 4;

    private PoolEngineChild() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        if (!mode.equals("store")) {
            Thread.ofPlatform().daemon().start(PoolEngineChild::exitWhenTheParentIsGone);
        }
        String url = args[1];
        long seed = Long.parseLong(args[2]);
        try (KvConnector cache = PoolEngines.open(url); Arena arena = Arena.ofShared()) {
            switch (mode) {
                case "store" -> {
                    PoolEngines.Prompt p = PoolEngines.Prompt.of(arena, seed, Integer.parseInt(args[3]), true);
                    System.out.println("stored " + cache.store(p.tokens(), p.kv(), p.slots()));
                    System.out.flush();
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                }
                case "check" -> {
                    int n = check(cache, arena, seed, Integer.parseInt(args[3]));
                    System.out.println(n < 0 ? "BAD" : "ok " + n);
                    System.out.flush();
                    System.exit(n < 0 ? 3 : 0);
                }
                case "churn" -> churn(cache, seed);
                default -> throw new IllegalArgumentException("mode: " + mode);
            }
        }
    }

    /** Retrieves the seeded prompt into fresh memory; the tokens retrieved, or -1 when a byte differs (printed). */
    static int check(KvConnector cache, Arena arena, long seed, int chunks) {
        PoolEngines.Prompt target = PoolEngines.Prompt.of(arena, seed, chunks, false);
        int n = cache.retrieve(target.tokens(), target.kv(), target.slots());
        PoolEngines.Prompt reference = PoolEngines.Prompt.of(arena, seed, chunks, true);
        try {
            SeededKv.assertSameKv(reference.kv(), reference.slots(), target.kv(), target.slots(), 0, n);
        } catch (AssertionError e) {
            System.out.println("BAD prompt " + seed + ": " + e.getMessage());
            return -1;
        }
        if (!SeededKv.isZero(target.kv(), target.slots(), n, target.tokens().length)) {
            System.out.println("BAD prompt " + seed + ": memory after the " + n + " retrieved tokens was written");
            return -1;
        }
        return n;
    }

    private static void churn(KvConnector cache, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long hits = 0;
        long misses = 0;
        long report = System.nanoTime();
        while (true) {
            long prompt = 1000 + random.nextInt(CHURN_PROMPTS);
            try (Arena arena = Arena.ofShared()) { // the retrieve copies on the connector's threads too
                int n = check(cache, arena, prompt, CHURN_CHUNKS);
                if (n < 0) {
                    System.out.flush();
                    System.exit(3);
                }
                if (n == CHURN_CHUNKS * PoolEngines.CHUNK) {
                    hits++;
                } else {
                    misses++;
                    PoolEngines.Prompt p = PoolEngines.Prompt.of(arena, prompt, CHURN_CHUNKS, true);
                    cache.store(p.tokens(), p.kv(), p.slots());
                }
            }
            if (System.nanoTime() - report > 100_000_000) {
                System.out.println("progress " + hits + " " + misses);
                System.out.flush();
                report = System.nanoTime();
            }
        }
    }

    /** Ends this JVM when standard input ends: the test that started it is gone (or closed it). */
    private static void exitWhenTheParentIsGone() {
        try {
            while (System.in.read() >= 0) {
                // nothing is sent
            }
        } catch (java.io.IOException e) {
            // as an end
        }
        System.exit(0);
    }

    /** The URL a test passes: the pool at {@code root} with room for {@code slots} chunks. */
    static String url(Path root, int slots, boolean embed) {
        return PoolEngines.url(root, slots, "embed=" + embed);
    }
}
