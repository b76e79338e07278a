package org.lmcache4j.examples.engine;

import java.util.function.IntConsumer;
import org.lmcache4j.examples.model.ModelShape;
import org.lmcache4j.examples.model.ModelWeights;

/**
 * The forward pass of a Llama-architecture model over a batch of consecutive positions of one
 * sequence: embedding, then per layer RMSNorm, fused QKV projection (+ bias for qwen2), RoPE, KV write
 * into paged memory, grouped-query attention, output projection, residual, RMSNorm, fused gate/up
 * projection, SwiGLU, down projection, residual; finally, for the last position only, the output norm
 * and the logits.
 *
 * <p>Every step is computed per token (rows) or per output (matmul columns) with a fixed reduction
 * order, so the result for a position is the same whether it is computed in one batch with its whole
 * prefix, after a retrieved prefix, or alone in a decode step.
 */
final class Transformer {

    private static final int ROWS_PER_UNIT = 32;

    private final ModelWeights weights;
    private final ModelShape shape;
    private final WorkerPool pool;
    private final Rope rope;
    private final Attention attention;
    private final float qScale;
    private final ThreadLocal<float[]> kvRow;

    Transformer(ModelWeights weights, WorkerPool pool) {
        this.weights = weights;
        this.shape = weights.shape();
        this.pool = pool;
        this.rope = new Rope(shape.headDim(), shape.ropeTheta(), shape.neoxRope());
        this.attention = new Attention(shape.heads(), shape.kvHeads(), shape.headDim(), pool);
        this.qScale = (float) (1.0 / Math.sqrt(shape.headDim()));
        this.kvRow = ThreadLocal.withInitial(() -> new float[shape.kvDim()]);
    }

    /**
     * Computes positions {@code start .. start+n-1} (tokens {@code tokens[start ..]}) of {@code seq}, which
     * must hold KV for {@code 0 .. start-1}; writes their KV and returns the logits of the last one when
     * {@code logits} is set, else null.
     */
    float[] forward(Sequence seq, int[] tokens, int start, int n, boolean logits) {
        return forward(seq, tokens, start, n, logits, null);
    }

    /**
     * {@link #forward(Sequence, int[], int, int, boolean)}, calling {@code beforeLayer} (when not null) with each
     * layer's index before the layer reads any KV: a layerwise retrieve waits there for that layer of the prefix.
     */
    float[] forward(Sequence seq, int[] tokens, int start, int n, boolean logits, IntConsumer beforeLayer) {
        if (start != seq.length() || start + n > seq.capacity()) {
            throw new IllegalArgumentException("positions " + start + ".." + (start + n) + " (expected: from "
                    + seq.length() + ", within capacity " + seq.capacity() + ")");
        }
        int dim = shape.dim();
        int qDim = shape.qDim();
        int kvDim = shape.kvDim();
        int qkvDim = qDim + 2 * kvDim;
        int hidden = shape.hiddenDim();
        int hd = shape.headDim();
        float eps = shape.rmsEps();
        float[] x = new float[n * dim];
        float[] xb = new float[n * dim];
        float[] qkv = new float[n * qkvDim];
        float[] att = new float[n * qDim];
        float[] gu = new float[n * 2 * hidden];
        float[] h = new float[n * hidden];
        float[] tmp = new float[n * dim];
        float[] embedding = weights.tokenEmbedding();
        for (int r = 0; r < n; r++) {
            System.arraycopy(embedding, tokens[start + r] * dim, x, r * dim, dim);
        }
        rope.ensure(start + n);
        for (int l = 0; l < shape.layers(); l++) {
            if (beforeLayer != null) {
                beforeLayer.accept(l);
            }
            ModelWeights.Layer layer = weights.layer(l);
            int li = l;
            rows(n, r -> VectorMath.rmsNorm(x, r * dim, layer.attnNorm(), eps, xb, r * dim, dim));
            Matmul.multiply(layer.qkv(), xb, n, qkv, pool);
            rows(n, r -> {
                int base = r * qkvDim;
                int pos = start + r;
                if (layer.qkvBias() != null) {
                    VectorMath.addInPlace(qkv, base, layer.qkvBias(), 0, qkvDim);
                }
                for (int head = 0; head < shape.heads(); head++) {
                    rope.apply(qkv, base + head * hd, pos);
                }
                for (int i = base; i < base + qDim; i++) {
                    qkv[i] *= qScale;
                }
                for (int g = 0; g < shape.kvHeads(); g++) {
                    rope.apply(qkv, base + qDim + g * hd, pos);
                }
                seq.putKv(li, pos, qkv, base + qDim, base + qDim + kvDim);
                seq.refresh(li, pos, pos + 1, kvRow.get());
            });
            attention.run(seq, l, qkv, start, n, att);
            Matmul.multiply(layer.wo(), att, n, tmp, pool);
            rows(n, r -> {
                VectorMath.addInPlace(x, r * dim, tmp, r * dim, dim);
                VectorMath.rmsNorm(x, r * dim, layer.ffnNorm(), eps, xb, r * dim, dim);
            });
            Matmul.multiply(layer.gateUp(), xb, n, gu, pool);
            rows(n, r -> VectorMath.swiglu(gu, r * 2 * hidden, hidden, h, r * hidden));
            Matmul.multiply(layer.down(), h, n, tmp, pool);
            rows(n, r -> VectorMath.addInPlace(x, r * dim, tmp, r * dim, dim));
        }
        seq.setLength(start + n);
        if (!logits) {
            return null;
        }
        float[] last = new float[dim];
        VectorMath.rmsNorm(x, (n - 1) * dim, weights.outputNorm(), eps, last, 0, dim);
        float[] out = new float[shape.vocabSize()];
        Matmul.multiply(weights.output(), last, 1, out, pool);
        return out;
    }

    private void rows(int n, IntConsumer body) {
        pool.run(Math.ceilDiv(n, ROWS_PER_UNIT), (unit, worker) -> {
            for (int r = unit * ROWS_PER_UNIT, end = Math.min(n, r + ROWS_PER_UNIT); r < end; r++) {
                body.accept(r);
            }
        });
    }
}
