package org.lmcache4j.blend;

/**
 * The rotary position embedding (RoPE) of a model's K: each pair of a head vector is rotated by
 * {@code position * theta^(-2i / rotaryDims)}. Cached K moves from position {@code p} to {@code q} exactly by one
 * more rotation of {@code q - p}, but only for standard RoPE: every dimension rotary, no frequency scaling.
 * Anything else (partial rotary dims, linear / NTK / YaRN / llama3 scaling, ALiBi) is refused by
 * {@link Blender} with an {@link IllegalArgumentException}, since moving it would need the unrotated K.
 *
 * @param headDim    elements per head
 * @param rotaryDims how many of them are rotated (standard: all)
 * @param theta      the base, e.g. 10,000 (Llama 2) or 1,000,000 (Qwen2.5)
 * @param pairs      which elements form a pair
 * @param scaling    the frequency scaling's name ({@code none} for standard RoPE)
 */
public record RotaryEmbedding(int headDim, int rotaryDims, double theta, Pairs pairs, String scaling) {

    /** How a head vector's elements are paired. */
    public enum Pairs {
        /** {@code (x[2i], x[2i+1])}: GPT-J style, llama.cpp's normal mode for Llama. */
        ADJACENT,
        /** {@code (x[i], x[i + headDim/2])}: GPT-NeoX style, Hugging Face Llama and Qwen2. */
        HALVES
    }

    public RotaryEmbedding {
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("headDim: " + headDim + " (expected: a positive even number)");
        }
        if (rotaryDims <= 0 || rotaryDims > headDim || rotaryDims % 2 != 0) {
            throw new IllegalArgumentException("rotaryDims: " + rotaryDims + " (expected: even, 2 to headDim " + headDim + ")");
        }
        if (!(theta > 1) || Double.isInfinite(theta)) {
            throw new IllegalArgumentException("theta: " + theta + " (expected: a finite base > 1)");
        }
        if (pairs == null || scaling == null) {
            throw new IllegalArgumentException("pairs and scaling: must not be null (scaling \"none\" for standard RoPE)");
        }
    }

    /** Standard RoPE: every dimension rotated, no scaling. */
    public static RotaryEmbedding standard(int headDim, double theta, Pairs pairs) {
        return new RotaryEmbedding(headDim, headDim, theta, pairs, "none");
    }

    /** Whether cached K of this embedding can be moved by one rotation. */
    public boolean isStandard() {
        return rotaryDims == headDim && scaling.equals("none");
    }

    /** @throws IllegalArgumentException naming what is not standard */
    void requireStandard() {
        if (!isStandard()) {
            throw new IllegalArgumentException("rotary embedding " + this + " (expected: standard RoPE, rotaryDims == headDim and"
                    + " scaling none: cached K of other encodings cannot be moved to a new position by one rotation)");
        }
    }
}
