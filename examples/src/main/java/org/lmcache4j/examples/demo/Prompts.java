package org.lmcache4j.examples.demo;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Deterministic synthetic prompt text of exact lengths: ASCII only, so with the byte tokenizer one
 * character is one token. Only the lengths and the shared prefixes matter to the demo; the words are
 * there so that a prompt printed in a log looks like what it stands for.
 */
final class Prompts {

    private static final String[] WORDS = {
        "cache", "prefix", "token", "layer", "engine", "memory", "request", "latency", "chunk", "model", "tier",
        "disk", "vector", "answer", "context", "document", "question", "system", "history", "attention", "value",
        "key", "store", "retrieve", "lookup", "batch", "prefill", "decode", "throughput", "budget", "page", "block",
    };

    private Prompts() {
    }

    /** {@code tokens} characters: {@code lead}, then seeded words, cut to length (padded when the lead is longer). */
    static String text(long seed, String lead, int tokens) {
        StringBuilder b = new StringBuilder(tokens + 16).append(lead);
        SplittableRandom random = new SplittableRandom(seed);
        int sentence = 0;
        while (b.length() < tokens) {
            b.append(WORDS[random.nextInt(WORDS.length)]);
            b.append(++sentence % 12 == 0 ? ". " : " ");
        }
        b.setLength(tokens);
        return b.toString();
    }

    /** A document of {@code tokens} characters. */
    static String document(long seed, int tokens) {
        return text(seed, "Document " + seed + ". ", tokens);
    }

    /** A question of {@code tokens} characters that ends where the answer should start. */
    static String question(long seed, int tokens) {
        String tail = "\nAnswer:";
        if (tokens <= tail.length()) {
            return text(seed, "\n", tokens);
        }
        return text(seed, "\nQuestion " + seed + ": ", tokens - tail.length()) + tail;
    }

    /** A system prompt, a user turn or an assistant reply of {@code tokens} characters. */
    static String turn(String role, long seed, int tokens) {
        return text(seed, "\n" + role + ": ", tokens);
    }

    /** Bytes of ASCII text: its token count under the byte tokenizer. */
    static int length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }
}
