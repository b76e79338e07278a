package org.lmcache4j.examples.jlama;

import java.util.SplittableRandom;

/** Deterministic prompt text for the demo and tests: words of lower-case letters, one byte (one token) each. */
final class Prompts {

    private static final String[] WORDS = {"the", "cache", "keeps", "keys", "and", "values", "of", "every", "prefix",
        "a", "document", "system", "prompt", "chunk", "model", "engine", "reuses", "memory", "disk", "token"};

    private Prompts() {
    }

    /** Exactly {@code chars} ASCII characters of words drawn with {@code seed}. */
    static String text(long seed, int chars) {
        if (chars < 0) {
            throw new IllegalArgumentException("chars: " + chars + " (expected: >= 0)");
        }
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder(chars + 16);
        while (sb.length() < chars) {
            sb.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        sb.setLength(chars);
        return sb.toString();
    }
}
