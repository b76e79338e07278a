package org.lmcache4j.examples.jlama;

import com.github.tjake.jlama.model.DistributedContext;
import com.github.tjake.jlama.safetensors.Config;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.TensorInfo;
import com.github.tjake.jlama.safetensors.WeightLoader;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.FloatBufferTensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random F32 weights for a Llama-architecture Jlama model, generated in memory from a seed: no download, and
 * the same weights in every process that uses the same seed and shape (the restart demo's second JVM needs
 * exactly the first one's model, or its cached KV would not be the KV it computes).
 *
 * <p>Matrices are uniform with variance {@code 1 / inputs}, so activations keep their scale through the layers;
 * norm weights are 1. The output head is tied to the embeddings, as in Qwen2.5-0.5B and Llama-3.2-1B.
 */
final class SeededLlamaWeights implements WeightLoader {

    private final Map<String, TensorInfo> shapes;
    private final long seed;

    SeededLlamaWeights(Config c, long seed) {
        this.seed = seed;
        this.shapes = shapesOf(c);
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    @Override
    public Map<String, TensorInfo> tensorInfoMap() {
        return shapes;
    }

    @Override
    public AbstractTensor load(String name, DistributedContext dctx, boolean sparseRows, boolean sparseColumns) {
        TensorInfo info = shapes.get(name);
        if (info == null) {
            throw new IllegalArgumentException("weight: " + name + " (expected one of " + shapes.keySet() + ")");
        }
        int[] shape = info.shape.clone();
        FloatBufferTensor t = new FloatBufferTensor(shape);
        var floats = t.getMemorySegment().asByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        if (name.endsWith("norm.weight")) {
            while (floats.hasRemaining()) {
                floats.put(1f);
            }
            return t;
        }
        SplittableRandom random = new SplittableRandom(seed ^ name.hashCode() * 0x9E3779B97F4A7C15L);
        float bound = (float) Math.sqrt(3.0 / shape[shape.length - 1]);
        while (floats.hasRemaining()) {
            floats.put((float) ((random.nextDouble() * 2 - 1) * bound));
        }
        return t;
    }

    @Override
    public DType getModelDType() {
        return DType.F32;
    }

    @Override
    public void close() {
    }

    private static Map<String, TensorInfo> shapesOf(Config c) {
        Map<String, TensorInfo> m = new LinkedHashMap<>();
        put(m, "model.embed_tokens.weight", c.vocabularySize, c.embeddingLength);
        put(m, "model.norm.weight", c.embeddingLength);
        for (int i = 0; i < c.numberOfLayers; i++) {
            String layer = "model.layers." + i + ".";
            put(m, layer + "self_attn.q_proj.weight", c.attentionLength, c.embeddingLength);
            put(m, layer + "self_attn.k_proj.weight", c.kvLength, c.embeddingLength);
            put(m, layer + "self_attn.v_proj.weight", c.kvLength, c.embeddingLength);
            put(m, layer + "self_attn.o_proj.weight", c.embeddingLength, c.attentionLength);
            put(m, layer + "mlp.gate_proj.weight", c.hiddenLength, c.embeddingLength);
            put(m, layer + "mlp.up_proj.weight", c.hiddenLength, c.embeddingLength);
            put(m, layer + "mlp.down_proj.weight", c.embeddingLength, c.hiddenLength);
            put(m, layer + "input_layernorm.weight", c.embeddingLength);
            put(m, layer + "post_attention_layernorm.weight", c.embeddingLength);
        }
        return Map.copyOf(m);
    }

    private static void put(Map<String, TensorInfo> m, String name, long... shape) {
        m.put(name, new TensorInfo(DType.F32, shape, new long[] {0, 0}));
    }
}
