package org.lmcache4j.examples.engine;

import java.util.Arrays;
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
        int[] positions = new int[n];
        for (int r = 0; r < n; r++) {
            positions[r] = start + r;
        }
        Pass pass = embed(tokens, positions);
        for (int l = 0; l < shape.layers(); l++) {
            if (beforeLayer != null) {
                beforeLayer.accept(l);
            }
            project(pass, l, positions);
            writeKv(seq, pass, l, positions);
            finishLayer(seq, pass, l, positions);
        }
        seq.setLength(start + n);
        return logits ? logits(pass, start + n - 1) : null;
    }

    /**
     * One prefill's working state over some positions of a sequence: their hidden states ({@code x}, a row per
     * position, in position order), the last projection's rows of {@code [q | k | v]} and the positions they are of,
     * and scratch rows. Later steps may drop positions ({@link #keep}), never add them. Position arrays are kept as
     * given, not copied: callers do not change them afterwards.
     */
    final class Pass {
        private int[] positions;
        private int[] projected = new int[0];
        private final float[] x;
        private final float[] xb;
        private final float[] qkv;
        private final float[] att;
        private final float[] gu;
        private final float[] h;
        private final float[] tmp;

        private Pass(int[] positions) {
            int n = positions.length;
            this.positions = positions;
            this.x = new float[n * shape.dim()];
            this.xb = new float[n * shape.dim()];
            this.qkv = new float[n * (shape.qDim() + 2 * shape.kvDim())];
            this.att = new float[n * shape.qDim()];
            this.gu = new float[n * 2 * shape.hiddenDim()];
            this.h = new float[n * shape.hiddenDim()];
            this.tmp = new float[n * shape.dim()];
        }

        /** Keeps the hidden states (and projected rows) of {@code kept} only, a subset of the current positions in order. */
        private void keep(int[] kept) {
            if (kept.length == positions.length) {
                return;
            }
            int dim = shape.dim();
            int qkvDim = shape.qDim() + 2 * shape.kvDim();
            boolean projectedToo = Arrays.equals(projected, positions);
            for (int i = 0; i < kept.length; i++) {
                int from = indexOf(positions, kept[i]);
                System.arraycopy(x, from * dim, x, i * dim, dim);
                if (projectedToo) {
                    System.arraycopy(qkv, from * qkvDim, qkv, i * qkvDim, qkvDim);
                }
            }
            positions = kept;
            projected = projectedToo ? positions : new int[0];
        }
    }

    /** Starts a pass over {@code positions} (ascending): each one's hidden state is its token's embedding. */
    Pass embed(int[] tokens, int[] positions) {
        Pass pass = new Pass(positions);
        int dim = shape.dim();
        float[] embedding = weights.tokenEmbedding();
        for (int r = 0; r < positions.length; r++) {
            System.arraycopy(embedding, tokens[positions[r]] * dim, pass.x, r * dim, dim);
        }
        rope.ensure(positions.length == 0 ? 0 : positions[positions.length - 1] + 1);
        return pass;
    }

    /**
     * Q, K and V of {@code layer} for {@code positions} (the pass's, or a subset it then keeps only): RMSNorm, the
     * fused projection (+ bias), RoPE at each row's position, Q scaled by {@code 1/sqrt(headDim)}. KV memory is not
     * written.
     */
    void project(Pass pass, int layer, int[] positions) {
        pass.keep(positions);
        int n = positions.length;
        int dim = shape.dim();
        int qDim = shape.qDim();
        int qkvDim = qDim + 2 * shape.kvDim();
        int hd = shape.headDim();
        ModelWeights.Layer w = weights.layer(layer);
        float[] x = pass.x;
        float[] xb = pass.xb;
        float[] qkv = pass.qkv;
        rows(n, r -> VectorMath.rmsNorm(x, r * dim, w.attnNorm(), shape.rmsEps(), xb, r * dim, dim));
        Matmul.multiply(w.qkv(), xb, n, qkv, pool);
        rows(n, r -> {
            int base = r * qkvDim;
            int pos = positions[r];
            if (w.qkvBias() != null) {
                VectorMath.addInPlace(qkv, base, w.qkvBias(), 0, qkvDim);
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
        });
        pass.projected = pass.positions;
    }

    /** K rows of the last projection at {@code positions} (ascending, among its positions) into {@code dst}, a row each. */
    void projectedKeys(Pass pass, int[] positions, float[] dst) {
        int kvDim = shape.kvDim();
        int qkvDim = shape.qDim() + 2 * kvDim;
        for (int i = 0; i < positions.length; i++) {
            System.arraycopy(pass.qkv, row(pass.projected, positions, i) * qkvDim + shape.qDim(), dst, i * kvDim, kvDim);
        }
    }

    /** Writes K and V of the last projection at {@code positions} (among its positions) into the sequence's KV memory. */
    void writeKv(Sequence seq, Pass pass, int layer, int[] positions) {
        int qkvDim = shape.qDim() + 2 * shape.kvDim();
        int[] projected = pass.projected;
        rows(positions.length, i -> {
            int base = row(projected, positions, i) * qkvDim;
            seq.putKv(layer, positions[i], pass.qkv, base + shape.qDim(), base + shape.qDim() + shape.kvDim());
            seq.refresh(layer, positions[i], positions[i] + 1, kvRow.get());
        });
    }

    /**
     * The rest of {@code layer} for {@code positions} (a subset of the last projection's, which the pass then keeps
     * only): attention of each one's query over the sequence's KV of positions 0 to its own, output projection,
     * residual, RMSNorm, gate/up, SwiGLU, down, residual.
     */
    void finishLayer(Sequence seq, Pass pass, int layer, int[] positions) {
        pass.keep(positions);
        int n = positions.length;
        int dim = shape.dim();
        int hidden = shape.hiddenDim();
        ModelWeights.Layer w = weights.layer(layer);
        float[] x = pass.x;
        float[] xb = pass.xb;
        float[] tmp = pass.tmp;
        attention.run(seq, layer, pass.qkv, positions, pass.att);
        Matmul.multiply(w.wo(), pass.att, n, tmp, pool);
        rows(n, r -> {
            VectorMath.addInPlace(x, r * dim, tmp, r * dim, dim);
            VectorMath.rmsNorm(x, r * dim, w.ffnNorm(), shape.rmsEps(), xb, r * dim, dim);
        });
        Matmul.multiply(w.gateUp(), xb, n, pass.gu, pool);
        rows(n, r -> VectorMath.swiglu(pass.gu, r * 2 * hidden, hidden, pass.h, r * hidden));
        Matmul.multiply(w.down(), pass.h, n, tmp, pool);
        rows(n, r -> VectorMath.addInPlace(x, r * dim, tmp, r * dim, dim));
    }

    /** The logits of {@code position}, which the pass kept through the last layer: output norm and projection. */
    float[] logits(Pass pass, int position) {
        int dim = shape.dim();
        float[] last = new float[dim];
        VectorMath.rmsNorm(pass.x, indexOf(pass.positions, position) * dim, weights.outputNorm(), shape.rmsEps(), last, 0, dim);
        float[] out = new float[shape.vocabSize()];
        Matmul.multiply(weights.output(), last, 1, out, pool);
        return out;
    }

    /** The row of {@code positions[i]} among {@code projected}: {@code i} itself when they are the same positions (a plain prefill). */
    private static int row(int[] projected, int[] positions, int i) {
        return projected == positions ? i : indexOf(projected, positions[i]);
    }

    /** The index of {@code position} in the ascending {@code positions}. */
    private static int indexOf(int[] positions, int position) {
        int i = Arrays.binarySearch(positions, position);
        if (i < 0) {
            throw new IllegalArgumentException("position " + position + " (expected: one of the pass's " + positions.length + ")");
        }
        return i;
    }

    private void rows(int n, IntConsumer body) {
        pool.run(Math.ceilDiv(n, ROWS_PER_UNIT), (unit, worker) -> {
            for (int r = unit * ROWS_PER_UNIT, end = Math.min(n, r + ROWS_PER_UNIT); r < end; r++) {
                body.accept(r);
            }
        });
    }
}
