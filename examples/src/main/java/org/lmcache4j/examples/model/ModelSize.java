package org.lmcache4j.examples.model;

import java.util.Arrays;
import java.util.Locale;

/**
 * The named shapes the demo can generate seeded weights for. The dimensions are those of the public
 * models (from their config.json); the weights are random, so only timings and cache behaviour carry over.
 */
public enum ModelSize {
    /** A 2-layer model for tests: every code path of the big ones, in milliseconds. */
    TINY("tiny", new ModelShape("tiny", "llama", 64, 2, 4, 2, 16, 192, 512, 4096, 1e-5f, 10000f, false)),
    /** llama2.c's stories15M: 6 layers of 288, multi-head attention, 32000-token vocabulary. */
    STORIES_15M("stories15m", new ModelShape("stories15m", "llama", 288, 6, 6, 6, 48, 768, 32000, 256, 1e-5f, 10000f, false)),
    /**
     * SmolLM-135M (the SmolLM2-135M config: same dimensions, RoPE base 100000 and 8192 positions):
     * 30 layers of 576, 9 query heads sharing 3 KV heads of 64, SwiGLU 1536, 49152 tokens.
     */
    SMOLLM_135M("smollm-135m", new ModelShape("smollm-135m", "llama", 576, 30, 9, 3, 64, 1536, 49152, 8192, 1e-5f, 100000f, false)),
    /** Qwen2.5-0.5B: 24 layers of 896, 14 query heads sharing 2 KV heads of 64, QKV biases, 151936 tokens. */
    QWEN25_05B("qwen2.5-0.5b", new ModelShape("qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1e-6f, 1000000f, true));

    private final String id;
    private final ModelShape shape;

    ModelSize(String id, ModelShape shape) {
        this.id = id;
        this.shape = shape;
    }

    /** The name used on the command line and in file names. */
    public String id() {
        return id;
    }

    public ModelShape shape() {
        return shape;
    }

    /** The size called {@code id} (case-insensitive). */
    public static ModelSize of(String id) {
        for (ModelSize s : values()) {
            if (s.id.equals(id.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw new IllegalArgumentException("model size: " + id + " (expected: one of "
                + Arrays.stream(values()).map(ModelSize::id).toList() + ")");
    }

    @Override
    public String toString() {
        return id;
    }
}
