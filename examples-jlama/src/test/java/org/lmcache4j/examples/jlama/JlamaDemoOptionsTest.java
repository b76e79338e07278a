package org.lmcache4j.examples.jlama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The demo's options refuse what it cannot run, naming the value and the range. */
class JlamaDemoOptionsTest {

    private static final Path DIR = Path.of("unused");

    private static void assertRejected(String message, Executable call) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, call).getMessage());
    }

    @Test
    void badValuesAreRefused() {
        assertRejected("prefix tokens: 1900 (expected: 2 to 1791 for model tiny)",
                () -> new JlamaDemoOptions(JlamaShape.TINY, 1, 1900, 4, 300, DIR, false));
        assertRejected("new tokens: 0 (expected: 1 to 64)",
                () -> new JlamaDemoOptions(JlamaShape.TINY, 1, 512, 0, 300, DIR, false));
        assertRejected("warm-up tokens: 100 (expected: 258 to 1984 for model tiny, so a warm-up prompt has a chunk to store and retrieve)",
                () -> new JlamaDemoOptions(JlamaShape.TINY, 1, 512, 4, 100, DIR, false));
        assertRejected("model shape: big (expected one of [tiny, qwen2.5-0.5b-4l])", () -> JlamaShape.named("big"));
    }

    @Test
    void promptsShareExactlyThePrefix() {
        JlamaDemoOptions o = new JlamaDemoOptions(JlamaShape.TINY, 3, 700, 4, 300, DIR, false);
        assertEquals(700, Completion.promptTokens(o.prefix()));
        assertEquals(o.prefix(), o.prompt(true).substring(0, 699));
        assertEquals(o.prefix(), o.prompt(false).substring(0, 699));
        assertNotEquals(o.prompt(true).charAt(699), o.prompt(false).charAt(699), "the questions differ from their first token");
        assertEquals(300, Completion.promptTokens(o.warmupPrompt(0)));
    }
}
