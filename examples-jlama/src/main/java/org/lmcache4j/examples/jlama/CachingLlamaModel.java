package org.lmcache4j.examples.jlama;

import com.github.tjake.jlama.model.llama.LlamaModel;
import com.github.tjake.jlama.safetensors.Config;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.WeightLoader;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import com.github.tjake.jlama.safetensors.tokenizer.Tokenizer;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;

import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvLayout;

/**
 * A Jlama {@link LlamaModel} whose {@code generate()} reuses prompt KV through an lmcache4j
 * {@link KvConnector}: {@code generate()} prefills the prompt with one {@link #batchForward} call, which here
 * goes through a {@link JlamaPrefixCache}. Only that prefill is cached: {@code embed()} and {@code classify()}
 * read every row of {@code batchForward}'s output, so they run Jlama's own. The connector must have this
 * model's layout ({@link #kvLayout()}) and a model id that names these weights.
 *
 * <p>{@code LlamaModel} is Jlama's Llama architecture; Qwen2 (attention biases), Mistral or Gemma weights need a
 * subclass of their own model class with the same two overrides.
 */
public class CachingLlamaModel extends LlamaModel {

    private final JlamaPrefixCache cache;
    private final ThreadLocal<Boolean> inGenerate = ThreadLocal.withInitial(() -> Boolean.FALSE);

    public CachingLlamaModel(Config config, WeightLoader weights, Tokenizer tokenizer, DType workingDType,
                             DType workingQType, Optional<DType> modelQType, KvConnector connector) {
        super(config, weights, tokenizer, workingDType, workingQType, modelQType);
        this.cache = new JlamaPrefixCache(connector, JlamaKv.layoutOf(config, workingDType));
    }

    /** The KV layout of this model, which its connector must be opened with. */
    public KvLayout kvLayout() {
        return cache.layout();
    }

    /** See {@link JlamaPrefixCache#setPrefillListener}. */
    public void setPrefillListener(JlamaPrefixCache.PrefillListener listener) {
        cache.setPrefillListener(listener);
    }

    @Override
    public Response generate(UUID session, PromptContext prompt, float temperature, int ntokens,
                             BiConsumer<String, Float> onTokenWithTimings) {
        Boolean outer = inGenerate.get();
        inGenerate.set(Boolean.TRUE);
        try {
            return super.generate(session, prompt, temperature, ntokens, onTokenWithTimings);
        } finally {
            inGenerate.set(outer);
        }
    }

    @Override
    public AbstractTensor batchForward(int[] tokens, int startPos, KvBufferCache.KvBuffer kv,
                                       Optional<Consumer<List<AbstractTensor>>> tensorReducer) {
        if (!inGenerate.get() || tensorReducer.isPresent()) {
            return super.batchForward(tokens, startPos, kv, tensorReducer);
        }
        return cache.prefill(tokens, startPos, kv, (rest, from) -> super.batchForward(rest, from, kv, tensorReducer));
    }
}
