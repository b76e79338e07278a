package org.lmcache4j.examples.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lmcache4j.examples.TinyModel;

/**
 * The forward pass of a token does not depend on how the prompt was split into prefill steps or on the
 * number of threads: logits bit for bit, generated tokens, and every KV byte are the same.
 */
class BatchInvarianceTest {

    @Test
    void logitsTokensAndKvDoNotDependOnPrefillChunksOrThreads() {
        int[] prompt = new SplittableRandom(11).ints(700, 0, 256).toArray();
        try (LlamaEngine whole = new LlamaEngine(TinyModel.weights(), 1024, 2, 700);
             LlamaEngine pieces = new LlamaEngine(TinyModel.weights(), 1024, 1, 97);
             LlamaEngine single = new LlamaEngine(TinyModel.weights(), 1024, 2, 1);
             Generation a = whole.generate(prompt, 6);
             Generation b = pieces.generate(prompt, 6);
             Generation c = single.generate(prompt, 6)) {
            assertArrayEquals(a.firstLogits(), b.firstLogits(), "logits: one step vs steps of 97 on one thread");
            assertArrayEquals(a.firstLogits(), c.firstLogits(), "logits: one step vs token by token");
            assertArrayEquals(a.tokens(), b.tokens());
            assertArrayEquals(a.tokens(), c.tokens());
            int n = prompt.length + 5; // the KV of the prompt and of the generated tokens but the last
            assertTrue(KvCheck.identical(whole.memory().host(), a.sequence().slots(n), pieces.memory().host(), b.sequence().slots(n), n));
            assertTrue(KvCheck.identical(whole.memory().host(), a.sequence().slots(n), single.memory().host(), c.sequence().slots(n), n));
        }
    }

    @Test
    void slotsAreScatteredOverThePagedMemory() {
        try (LlamaEngine engine = new LlamaEngine(TinyModel.weights(), 1024, 1, 64);
             Generation g = engine.generate(new int[] {1, 2, 3}, 1)) {
            int[] slots = g.sequence().slots(3);
            assertTrue(slots[0] % PagedKvMemory.BLOCK_TOKENS == 0 && slots[1] == slots[0] + 1 && slots[2] == slots[0] + 2);
            int[] blocks = new int[8];
            boolean identity = true;
            try (Sequence s = new Sequence(engine.memory(), 8 * PagedKvMemory.BLOCK_TOKENS)) {
                for (int i = 0; i < blocks.length; i++) {
                    identity &= s.slots(s.capacity())[i * PagedKvMemory.BLOCK_TOKENS] == i * PagedKvMemory.BLOCK_TOKENS;
                }
            }
            assertTrue(!identity, "blocks are handed out in a shuffled order");
        }
    }
}
