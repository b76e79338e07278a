package org.lmcache4j.examples.model;

import java.util.Locale;
import org.lmcache4j.examples.gguf.GgufFile;
import org.lmcache4j.examples.gguf.GgufValue;

/**
 * The hyperparameters of a Llama-architecture model, as GGUF metadata states them under
 * {@code <architecture>.*}.
 *
 * @param name          a short name for logs and file names
 * @param architecture  {@code llama} (RoPE on adjacent pairs) or {@code qwen2} (NeoX RoPE on halves, QKV biases)
 * @param dim           embedding width ({@code embedding_length})
 * @param layers        transformer blocks ({@code block_count})
 * @param heads         query heads ({@code attention.head_count})
 * @param kvHeads       key/value heads ({@code attention.head_count_kv})
 * @param headDim       elements per head ({@code attention.key_length}, else dim / heads)
 * @param hiddenDim     SwiGLU width ({@code feed_forward_length})
 * @param vocabSize     tokens in the vocabulary
 * @param contextLength positions the original model was trained for ({@code context_length}); informative
 * @param rmsEps        RMSNorm epsilon ({@code attention.layer_norm_rms_epsilon})
 * @param ropeTheta     RoPE base frequency ({@code rope.freq_base})
 * @param qkvBias       whether the Q, K and V projections have biases
 */
public record ModelShape(String name, String architecture, int dim, int layers, int heads, int kvHeads, int headDim,
                         int hiddenDim, int vocabSize, int contextLength, float rmsEps, float ropeTheta, boolean qkvBias) {

    public ModelShape {
        if (!architecture.equals("llama") && !architecture.equals("qwen2")) {
            throw new IllegalArgumentException("architecture: " + architecture + " (expected: llama or qwen2)");
        }
        for (int v : new int[] {dim, layers, heads, kvHeads, headDim, hiddenDim, vocabSize}) {
            if (v <= 0) {
                throw new IllegalArgumentException(name + ": every dimension must be > 0: " + this);
            }
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads: " + heads + ", kvHeads: " + kvHeads + " (expected: heads a multiple of kvHeads)");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("headDim: " + headDim + " (expected: even, for RoPE)");
        }
    }

    /** True when RoPE rotates (x[i], x[i + headDim/2]) (NeoX style, qwen2) rather than (x[2i], x[2i+1]). */
    public boolean neoxRope() {
        return architecture.equals("qwen2");
    }

    /** Query heads per KV head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** Width of all query heads. */
    public int qDim() {
        return heads * headDim;
    }

    /** Width of all KV heads: one token's K (or V) row in one layer. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Parameters of the model, embeddings and (untied) output included. */
    public long parameters(boolean tiedOutput) {
        long perLayer = 2L * dim + (long) dim * (qDim() + 2L * kvDim()) + (long) qDim() * dim + 3L * dim * hiddenDim
                + (qkvBias ? qDim() + 2L * kvDim() : 0);
        return (long) layers * perLayer + dim + (long) vocabSize * dim * (tiedOutput ? 1 : 2);
    }

    /** The shape stated by a GGUF file's metadata (and its token embedding, for the vocabulary size). */
    public static ModelShape fromGguf(GgufFile file) {
        String arch = file.require("general.architecture").asString();
        String p = arch + ".";
        int dim = (int) file.require(p + "embedding_length").asLong();
        int heads = (int) file.require(p + "attention.head_count").asLong();
        int kvHeads = file.value(p + "attention.head_count_kv").map(v -> (int) v.asLong()).orElse(heads);
        int headDim = file.value(p + "attention.key_length").map(v -> (int) v.asLong()).orElse(dim / heads);
        long[] embd = file.requireTensor("token_embd.weight").dims();
        int vocab = file.value(p + "vocab_size").map(v -> (int) v.asLong()).orElse((int) embd[1]);
        String name = file.value("general.name").map(GgufValue::asString).orElse(file.path().getFileName().toString());
        return new ModelShape(name.toLowerCase(Locale.ROOT).replace(' ', '-'), arch, dim,
                (int) file.require(p + "block_count").asLong(), heads, kvHeads, headDim,
                (int) file.require(p + "feed_forward_length").asLong(), vocab,
                file.value(p + "context_length").map(v -> (int) v.asLong()).orElse(2048),
                (float) (double) file.value(p + "attention.layer_norm_rms_epsilon").map(GgufValue::asDouble).orElse(1e-5),
                (float) (double) file.value(p + "rope.freq_base").map(GgufValue::asDouble).orElse(10000.0),
                file.tensor("blk.0.attn_q.bias").isPresent());
    }
}
