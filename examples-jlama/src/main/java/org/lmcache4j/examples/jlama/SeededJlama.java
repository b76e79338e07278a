package org.lmcache4j.examples.jlama;

import com.github.tjake.jlama.model.llama.LlamaModel;
import com.github.tjake.jlama.safetensors.Config;
import com.github.tjake.jlama.safetensors.DType;

import java.util.Optional;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvLayout;

/**
 * Builds Jlama models of a {@link JlamaShape} with seeded random weights, without Jlama's loader (0.8.4 builds
 * only the model classes it lists from files). Weights are held as BF16 and computed in F32, the fastest of the
 * three tried here (F32 weights and Q4 weights with I8 activations were slower; see examples-jlama/README.md);
 * the KV is F32.
 */
final class SeededJlama {

    private static final DType WORKING = DType.F32;
    private static final Optional<DType> WEIGHTS = Optional.of(DType.BF16);

    private SeededJlama() {
    }

    /** Jlama as it is: no cache. */
    static LlamaModel plain(JlamaShape shape, long seed) {
        Config c = shape.config();
        return new LlamaModel(c, new SeededLlamaWeights(c, seed), new ByteTokenizer(), WORKING, WORKING, WEIGHTS);
    }

    /** Jlama with its prefill going through {@code connector}, opened with {@link #layout} and {@link #modelId}. */
    static CachingLlamaModel cached(JlamaShape shape, long seed, KvConnector connector) {
        Config c = shape.config();
        return new CachingLlamaModel(c, new SeededLlamaWeights(c, seed), new ByteTokenizer(), WORKING, WORKING, WEIGHTS,
                connector);
    }

    static KvLayout layout(JlamaShape shape) {
        return JlamaKv.layoutOf(shape.config(), WORKING);
    }

    /** The model id that names these weights: KV is shared only between models of the same shape and seed. */
    static String modelId(JlamaShape shape, long seed) {
        return "jlama-random-" + shape.name() + "-seed-" + seed;
    }
}
