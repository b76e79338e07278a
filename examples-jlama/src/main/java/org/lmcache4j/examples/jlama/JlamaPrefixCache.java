package org.lmcache4j.examples.jlama;

import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;

import java.util.Arrays;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvLayout;

/**
 * The prefix cache of a Jlama model's prompt prefill, for any {@code AbstractModel} subclass
 * ({@link CachingLlamaModel} is the Llama one; a {@code Qwen2Model} or {@code MistralModel} subclass calls it the
 * same way from its own {@code batchForward}):
 * <ol>
 *   <li>retrieves the longest cached prefix of the prompt straight into Jlama's KV pages (the last token is
 *       never taken from the cache: its logits are needed, so it is computed);</li>
 *   <li>runs Jlama's own prefill for the rest, from the first position not retrieved;</li>
 *   <li>stores the prompt's KV before returning (Jlama frees its pages when {@code generate()} ends).</li>
 * </ol>
 * Only prompts that start at position 0 are cached: their KV is a prefix of nothing else (Jlama starts a
 * session's second call at a later position, so reused sessions are not cached).
 */
public final class JlamaPrefixCache {

    /** Jlama's own prefill of {@code tokens} from {@code startPos} ({@code super.batchForward}). */
    @FunctionalInterface
    public interface Forward {
        AbstractTensor run(int[] tokens, int startPos);
    }

    /**
     * Told about every cached prefill, on the thread that ran it, before {@code generate()} goes on: for
     * diagnostics. The {@link HostKvMemory} is Jlama's pages, valid only during the call (Jlama recycles them
     * when {@code generate()} ends); an exception thrown here fails the request (after the store).
     */
    @FunctionalInterface
    public interface PrefillListener {
        void prefilled(int[] tokens, Prefill prefill, HostKvMemory kv);
    }

    private static final PrefillListener NONE = (tokens, prefill, kv) -> { };

    private final KvConnector connector;
    private final KvLayout layout;
    private volatile PrefillListener listener = NONE;

    /**
     * @param connector opened with {@code layout} and a model id that names the model's weights
     * @param layout    the model's KV layout ({@link JlamaKv#layoutOf})
     */
    public JlamaPrefixCache(KvConnector connector, KvLayout layout) {
        if (connector == null) {
            throw new IllegalArgumentException("connector: null (expected: a KvConnector opened with layout " + layout + ")");
        }
        if (!connector.layout().equals(layout)) {
            throw new IllegalArgumentException("connector layout: " + connector.layout() + " (expected: this model's "
                    + layout + ")");
        }
        this.connector = connector;
        this.layout = layout;
    }

    public KvLayout layout() {
        return layout;
    }

    /** One listener for the model, or null for none. */
    public void setPrefillListener(PrefillListener listener) {
        this.listener = listener == null ? NONE : listener;
    }

    /** The prefill of {@code tokens} from {@code startPos} into {@code kv}, through the cache when it starts at 0. */
    public AbstractTensor prefill(int[] tokens, int startPos, KvBufferCache.KvBuffer kv, Forward jlama) {
        int n = tokens.length;
        if (startPos != 0 || n < 2) {
            return jlama.run(tokens, startPos);
        }
        HostKvMemory memory = JlamaKv.describe(kv, layout, n);
        int[] slots = new int[n];
        Arrays.setAll(slots, i -> i);

        long t0 = System.nanoTime();
        int[] retrieveSlots = slots.clone();
        retrieveSlots[n - 1] = -1; // computed, not taken from the cache
        int retrieved = Math.min(connector.retrieve(tokens, memory, retrieveSlots), n - 1);
        long t1 = System.nanoTime();
        AbstractTensor out = jlama.run(Arrays.copyOfRange(tokens, retrieved, n), retrieved);
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
