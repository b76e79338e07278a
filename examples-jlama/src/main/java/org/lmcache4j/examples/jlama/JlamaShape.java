package org.lmcache4j.examples.jlama;

import com.github.tjake.jlama.math.ActivationFunction;
import com.github.tjake.jlama.model.llama.LlamaConfig;

import java.util.List;

/**
 * The shape of a random-weight Llama model for Jlama: what a {@code config.json} would hold.
 *
 * @param name          how the demo and tests call it
 * @param hidden        hidden size
 * @param intermediate  MLP size
 * @param heads         attention heads
 * @param kvHeads       KV heads (grouped-query attention when fewer than {@code heads})
 * @param layers        transformer layers
 * @param vocab         vocabulary size
 * @param contextLength the longest sequence the model accepts
 */
record JlamaShape(String name, int hidden, int intermediate, int heads, int kvHeads, int layers, int vocab,
                  int contextLength) {

    /** A model small enough for unit tests: a few milliseconds per hundred tokens. */
    static final JlamaShape TINY = new JlamaShape("tiny", 128, 256, 4, 2, 2, 512, 2048);

    /**
     * Qwen2.5-0.5B's attention and MLP widths (hidden 896, 14 heads, 2 KV heads, MLP 4864) with 4 of its 24
     * layers and a 4,096-token vocabulary, so a 4,096-token prefill takes seconds, not minutes, on two cores:
     * matmuls still dominate, as in the full model.
     */
    static final JlamaShape QWEN_WIDE = new JlamaShape("qwen2.5-0.5b-4l", 896, 4864, 14, 2, 4, 4096, 8192);

    static final List<JlamaShape> ALL = List.of(TINY, QWEN_WIDE);

    static JlamaShape named(String name) {
        for (JlamaShape s : ALL) {
            if (s.name.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("model shape: " + name + " (expected one of "
                + ALL.stream().map(JlamaShape::name).toList() + ")");
    }

    LlamaConfig config() {
        return new LlamaConfig(contextLength, hidden, intermediate, heads, kvHeads, layers, 1e-6f, vocab, 1, 2,
                ActivationFunction.Type.SILU, 1_000_000.0, null);
    }
}
