package org.lmcache4j.examples.jlama;

import com.github.tjake.jlama.model.llama.LlamaModel;
import com.github.tjake.jlama.safetensors.Config;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.WeightLoader;
import com.github.tjake.jlama.safetensors.tokenizer.Tokenizer;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvLayout;

/**
 * A Jlama {@link LlamaModel} whose prompt prefill reuses KV through an lmcache4j {@link KvConnector}:
 * Jlama's {@code generate()} prefills every prompt through {@link #batchForward}, which here
 * <ol>
 *   <li>retrieves the longest cached prefix of the prompt straight into Jlama's KV pages (the last token is
 *       never taken from the cache: its logits are needed, so it is computed);</li>
 *   <li>runs Jlama's own prefill for the rest, from the first position not retrieved;</li>
 *   <li>stores the prompt's KV before returning (Jlama frees its pages when {@code generate()} ends).</li>
 * </ol>
 * Only prompts that start at position 0 are cached: their KV is a prefix of nothing else. The connector must
 * have this model's layout ({@link #kvLayout()}) and a model id that names these weights.
 */
public class CachingLlamaModel extends LlamaModel {

    /** Told about every cached prefill, with the KV it left in Jlama's pages. */
    @FunctionalInterface
    public interface PrefillListener {
        void prefilled(int[] tokens, Prefill prefill, HostKvMemory kv);
    }

    private final KvConnector connector;
    private final KvLayout layout;
    private volatile PrefillListener listener = (tokens, prefill, kv) -> { };

    public CachingLlamaModel(Config config, WeightLoader weights, Tokenizer tokenizer, DType workingDType,
                             DType workingQType, Optional<DType> modelQType, KvConnector connector) {
        super(config, weights, tokenizer, workingDType, workingQType, modelQType);
        this.layout = JlamaKv.layoutOf(config, workingDType);
        if (connector == null) {
            throw new IllegalArgumentException("connector: null (expected: a KvConnector opened with layout " + layout + ")");
        }
        if (!connector.layout().equals(layout)) {
            throw new IllegalArgumentException("connector layout: " + connector.layout() + " (expected: this model's "
                    + layout + ")");
        }
        this.connector = connector;
    }

    /** The KV layout of this model, which its connector must be opened with. */
    public KvLayout kvLayout() {
        return layout;
    }

    public void setPrefillListener(PrefillListener listener) {
        this.listener = listener == null ? (tokens, prefill, kv) -> { } : listener;
    }

    @Override
    public AbstractTensor batchForward(int[] tokens, int startPos, KvBufferCache.KvBuffer kv,
                                       Optional<Consumer<List<AbstractTensor>>> tensorReducer) {
        int n = tokens.length;
        if (startPos != 0 || n < 2 || tensorReducer.isPresent()) {
            return super.batchForward(tokens, startPos, kv, tensorReducer);
        }
        HostKvMemory memory = JlamaKv.describe(kv, layout, n);
        int[] slots = new int[n];
        Arrays.setAll(slots, i -> i);

        long t0 = System.nanoTime();
        int[] retrieveSlots = slots.clone();
        retrieveSlots[n - 1] = -1; // computed, not taken from the cache
        int retrieved = Math.min(connector.retrieve(tokens, memory, retrieveSlots), n - 1);
        long t1 = System.nanoTime();
        AbstractTensor out = super.batchForward(Arrays.copyOfRange(tokens, retrieved, n), retrieved, kv, tensorReducer);
        long t2 = System.nanoTime();
        int stored = connector.store(tokens, storeMask(n, retrieved), memory, slots);
        long t3 = System.nanoTime();

        listener.prefilled(tokens, new Prefill(n, retrieved, stored, t1 - t0, t2 - t1, t3 - t2), memory);
        return out;
    }

    /** Skips the whole chunks that were retrieved: they are cached already. */
    private boolean[] storeMask(int n, int retrieved) {
        boolean[] mask = new boolean[n];
        int cached = retrieved / connector.chunkTokens() * connector.chunkTokens();
        Arrays.fill(mask, cached, n, true);
        return mask;
    }
}
