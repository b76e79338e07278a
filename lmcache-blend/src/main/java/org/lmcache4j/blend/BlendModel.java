package org.lmcache4j.blend;

/**
 * What an engine computes for {@link Blender}: the pieces of one prefill, for any set of positions of one
 * sequence. Positions are always given in increasing order. The engine keeps, per pass, the hidden state of
 * each position still being computed and the last projection's Q, K and V; its KV memory holds, before the
 * pass, the retrieved segments' KV at their new slots (K still rotated for the positions it was computed at).
 *
 * <p>For {@code ratio = 1.0} to equal a full prefill bit for bit, each method must compute a position's rows
 * exactly as the engine's own prefill does (the same kernels and reduction order), whichever other positions
 * share the call: the reference engine's kernels are batch invariant in this sense.
 */
public interface BlendModel {

    /** Transformer layers. */
    int numLayers();

    /** KV heads per layer. */
    int kvHeads();

    /** The model's positional encoding of K. */
    RotaryEmbedding rotary();

    /** Copies K of {@code layer} at {@code positions} from KV memory into {@code dst}: rows of {@code kvHeads * headDim}. */
    void readKeys(int layer, int[] positions, float[] dst);

    /** Writes K rows of {@code layer} at {@code positions} into KV memory (and whatever attention reads of it). */
    void writeKeys(int layer, int[] positions, float[] src);

    /** Starts a pass: the hidden state of each of {@code positions} from its token's embedding. */
    void embed(int[] positions);

    /**
     * Computes Q, K and V of {@code layer} for {@code positions} (a subset of the previous call's, or all of the
     * embedded ones for the first layer) from their hidden states; K, rotated for each row's position, also
     * into {@code freshKeys} (rows as in {@link #readKeys}). Writes nothing to KV memory.
     */
    void project(int layer, int[] positions, float[] freshKeys);

    /** Writes K and V of the last projection at {@code positions} (a subset of its positions) into KV memory. */
    void writeKv(int layer, int[] positions);

    /**
     * The rest of {@code layer} for {@code positions} (a subset of the last projection's): attention of each
     * one's query over the KV memory of positions 0 to its own (a causal mask by position), output projection,
     * residual, MLP, residual. Hidden states of positions not given are not needed again.
     */
    void finishLayer(int layer, int[] positions);

    /** The logits of {@code position} after the last layer (it was in every layer's {@code finishLayer}). */
    float[] logits(int position);
}
