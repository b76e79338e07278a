package org.lmcache4j.examples.jlama;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * One greedy completion through Jlama's own {@code generate()}, timed as a user sees it.
 *
 * @param text      the generated text (with {@link ByteTokenizer}, one character or {@code <id>} per token, so
 *                  equal texts are equal tokens)
 * @param ttftNanos from the call to the first generated token (the time taken by the KV digest, when asked
 *                  for, is not counted)
 * @param prefill   what the cache did, or null for a model without one
 * @param kvDigest  {@link KvDigest} of the first positions' KV as prefill left it, or null when not asked for
 */
record Completion(String text, long ttftNanos, Prefill prefill, String kvDigest) {

    /** Prompt tokens Jlama will run for {@code prompt}: its UTF-8 bytes and the BOS token. */
    static int promptTokens(String prompt) {
        return prompt.getBytes(StandardCharsets.UTF_8).length + 1;
    }

    /** Generates {@code newTokens} tokens greedily (temperature 0) on a fresh session. */
    static Completion greedy(AbstractModel model, String prompt, int newTokens) {
        return greedy(model, prompt, newTokens, 0);
    }

    /**
     * Like {@link #greedy(AbstractModel, String, int)}; for a {@link CachingLlamaModel} and
     * {@code digestPositions > 0}, also digests the KV of positions {@code [0, digestPositions)} right after
     * prefill, before Jlama frees its pages.
     */
    static Completion greedy(AbstractModel model, String prompt, int newTokens, int digestPositions) {
        Prefill[] prefill = new Prefill[1];
        String[] digest = new String[1];
        long[] digestNanos = {0};
        if (model instanceof CachingLlamaModel cached) {
            cached.setPrefillListener((tokens, p, kv) -> {
                prefill[0] = p;
                if (digestPositions > 0) {
                    long t = System.nanoTime();
                    digest[0] = KvDigest.of(kv, digestPositions);
                    digestNanos[0] = System.nanoTime() - t;
                }
            });
        }
        long[] first = {0};
        long start = System.nanoTime();
        try {
            var response = model.generate(UUID.randomUUID(), PromptContext.of(prompt), 0f,
                    promptTokens(prompt) + newTokens - 1, (token, ms) -> {
                        if (first[0] == 0) {
                            first[0] = System.nanoTime();
                        }
                    });
            return new Completion(response.responseText, first[0] - start - digestNanos[0], prefill[0], digest[0]);
        } finally {
            if (model instanceof CachingLlamaModel cached) {
                cached.setPrefillListener(null);
            }
        }
    }
}
