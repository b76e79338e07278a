package org.lmcache4j.examples.jlama;

import java.nio.file.Path;

/**
 * What {@code bin/lmcache jlama-demo} runs.
 *
 * @param shape          the random-weight model's shape
 * @param seed           its weights' seed
 * @param prefixTokens   tokens of the shared prefix, BOS included (a multiple of the chunk size is cached whole)
 * @param newTokens      tokens generated per request
 * @param warmupTokens   tokens of each JIT warm-up prompt
 * @param cacheDir       the disk tier's directory (cleared first)
 * @param dropPageCache  drop the disk tier's files from the page cache before the fresh JVM starts, so its
 *                       reads come from the device, as after a reboot or on a busy node
 */
record JlamaDemoOptions(JlamaShape shape, long seed, int prefixTokens, int newTokens, int warmupTokens, Path cacheDir,
                        boolean dropPageCache) {

    static final int CHUNK_TOKENS = 256;

    JlamaDemoOptions {
        if (prefixTokens < 2 || prefixTokens >= shape.contextLength() - 256) {
            throw new IllegalArgumentException("prefix tokens: " + prefixTokens + " (expected: 2 to "
                    + (shape.contextLength() - 257) + " for model " + shape.name() + ")");
        }
        if (newTokens < 1 || newTokens > 64) {
            throw new IllegalArgumentException("new tokens: " + newTokens + " (expected: 1 to 64)");
        }
        int maxWarmup = Math.min(4096, shape.contextLength() - 64);
        if (warmupTokens < CHUNK_TOKENS + 2 || warmupTokens > maxWarmup) {
            throw new IllegalArgumentException("warm-up tokens: " + warmupTokens + " (expected: " + (CHUNK_TOKENS + 2)
                    + " to " + maxWarmup + " for model " + shape.name() + ", so a warm-up prompt has a chunk to store and retrieve)");
        }
    }

    /** The shared prefix: {@code prefixTokens - 1} characters after the BOS token. */
    String prefix() {
        return Prompts.text(seed * 31 + 1, prefixTokens - 1);
    }

    /** The prompt of the cold request and the one of the cached, no-cache and restart requests. */
    String prompt(boolean cold) {
        return prefix() + (cold ? " Which of these documents names the disk tier, and where?"
                : "\nQuestion: what does the first document say about the cache?");
    }

    /**
     * Prompts unrelated to the measured ones that run each code path until the JIT has compiled it. The first JVM
     * runs prompts 0, 1, 0 (two misses, then a hit); the fresh one runs 10, 11 (misses: Jlama computes them) and
     * then 0 (stored by the first JVM: a hit from disk), so both have run the same code before the measured request.
     */
    String warmupPrompt(int prompt) {
        return Prompts.text(seed * 31 + 1000 + prompt, warmupTokens - 1);
    }

    static final int[] WARMUP_PROMPTS = {0, 1, 0};
    static final int[] RESTART_WARMUP_PROMPTS = {10, 11, 0};
}
