package org.lmcache4j.examples.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention for a batch of query positions over everything the sequence holds.
 *
 * <p>For the query at position t, in every head: scores {@code s[j] = q . k[j]} for {@code j = 0..t}, each
 * a multiply-add chain over the head dimension in order; softmax with the exact maximum and a lane-wise
 * sum folded in a fixed order; then {@code sum_j p[j] v[j]} as one multiply-add chain over {@code j = 0..t}
 * in order (kept in the output row between key chunks, which stores and reloads it exactly). Nothing
 * depends on which other queries share the call, how they are tiled, or which thread runs them: a
 * token's attention output is bit-identical whether its prefix was computed in the same batch, in
 * earlier batches, or retrieved from the cache.
 *
 * <p>Blocking. A work unit is one KV head and {@value #POSITIONS} consecutive positions: all the query
 * heads that share that KV head, so {@code group * 8} query rows reuse every K and V vector loaded. Scores
 * run 4 rows x 3 key vectors at a time (12 accumulators) over an L1-resident triple of key blocks; values
 * run 4 rows x 2 output vectors (8 accumulators) over chunks of {@value #KEY_CHUNK} keys.
 */
final class Attention {

    static final int POSITIONS = 8;
    static final int KEY_CHUNK = 128;
    private static final VectorSpecies<Float> F = VectorMath.F;
    private static final int L = VectorMath.L;

    private final int heads;
    private final int kvHeads;
    private final int group;
    private final int headDim;
    private final int kvDim;
    private final int qkvStride;
    private final WorkerPool pool;
    private final float[][] scratch;

    Attention(int heads, int kvHeads, int headDim, WorkerPool pool) {
        if (headDim % L != 0) {
            throw new IllegalArgumentException("headDim: " + headDim + " (expected: a multiple of the vector length " + L + ")");
        }
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.group = heads / kvHeads;
        this.headDim = headDim;
        this.kvDim = kvHeads * headDim;
        this.qkvStride = heads * headDim + 2 * kvDim;
        this.pool = pool;
        this.scratch = new float[pool.workers()][];
    }

    /**
     * Attention outputs into {@code out} (rows of heads * headDim): row {@code r} is the query of position
     * {@code positions[r]} (ascending; consecutive in a prefill, with gaps in a blended one), over the keys of
     * positions 0 to its own. A row's output does not depend on which other rows share the call.
     *
     * @param qkv rows of {@code [q | k | v]}, q rotated and pre-scaled by {@code 1/sqrt(headDim)}
     */
    void run(Sequence seq, int layer, float[] qkv, int[] positions, float[] out) {
        int n = positions.length;
        int tiles = Math.ceilDiv(n, POSITIONS);
        float[] keys = seq.keyPanel(layer);
        float[] values = seq.valueRows(layer);
        int capacity = seq.rowsCapacity();
        pool.run(tiles * kvHeads, (unit, worker) -> {
            int tile = tiles - 1 - unit / kvHeads; // longest rows first: better balance across workers
            int g = unit % kvHeads;
            int r0 = tile * POSITIONS;
            int count = Math.min(POSITIONS, n - r0);
            Rows rows = new Rows(group * count);
            int oStride = heads * headDim;
            for (int hg = 0; hg < group; hg++) {
                int h = g * group + hg;
                for (int r = 0; r < count; r++) {
                    int i = hg * count + r;
                    rows.q[i] = (r0 + r) * qkvStride + h * headDim;
                    rows.out[i] = (r0 + r) * oStride + h * headDim;
                    rows.keys[i] = positions[r0 + r] + 1;
                }
            }
            int keyBlocks = positions[r0 + count - 1] / L + 1;
            int stride = keyBlocks * L;
            float[] s = scratch(worker, rows.size * stride);
            scores(keys, g * headDim, keyBlocks, qkv, rows, s, stride);
            for (int i = 0; i < rows.size; i++) {
                rows.inv[i] = 1f / softmax(s, i * stride, rows.keys[i]);
            }
            values(values, g * capacity * headDim, qkv, rows, s, stride, out);
        });
    }

    /** The query rows of one unit: offsets of q and output, keys each may see, and 1 / softmax sum. */
    private static final class Rows {
        final int size;
        final int[] q;
        final int[] out;
        final int[] keys;
        final float[] inv;

        Rows(int size) {
            this.size = size;
            this.q = new int[size];
            this.out = new int[size];
            this.keys = new int[size];
            this.inv = new float[size];
        }
    }

    private float[] scratch(int worker, int size) {
        float[] s = scratch[worker];
        if (s == null || s.length < size) {
            s = new float[Math.max(size, s == null ? 0 : s.length * 3 / 2)];
            scratch[worker] = s;
        }
        return s;
    }

    private void scores(float[] panel, int gOff, int keyBlocks, float[] qkv, Rows rows, float[] s, int stride) {
        int full = rows.size / 4 * 4;
        int b = 0;
        for (; b + 3 <= keyBlocks; b += 3) {
            int k = (b * kvDim + gOff) * L;
            for (int i = 0; i < full; i += 4) {
                scores4x3(panel, k, qkv, rows.q[i], rows.q[i + 1], rows.q[i + 2], rows.q[i + 3], s, i * stride + b * L, stride);
            }
            for (int i = full; i < rows.size; i++) {
                scores1(panel, gOff, b, b + 3, qkv, rows.q[i], s, i * stride);
            }
        }
        for (int i = 0; i < rows.size; i++) {
            scores1(panel, gOff, b, keyBlocks, qkv, rows.q[i], s, i * stride);
        }
    }

    /** Scores of 4 queries against 3 consecutive key blocks starting at panel index {@code k}. */
    private void scores4x3(float[] panel, int k, float[] qkv, int q0, int q1, int q2, int q3, float[] s, int at, int stride) {
        int blockStride = kvDim * L;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
        for (int d = 0, kd = k; d < headDim; d++, kd += L) {
            FloatVector k0 = FloatVector.fromArray(F, panel, kd);
            FloatVector k1 = FloatVector.fromArray(F, panel, kd + blockStride);
            FloatVector k2 = FloatVector.fromArray(F, panel, kd + 2 * blockStride);
            FloatVector q = FloatVector.broadcast(F, qkv[q0 + d]);
            a00 = k0.fma(q, a00);
            a01 = k1.fma(q, a01);
            a02 = k2.fma(q, a02);
            q = FloatVector.broadcast(F, qkv[q1 + d]);
            a10 = k0.fma(q, a10);
            a11 = k1.fma(q, a11);
            a12 = k2.fma(q, a12);
            q = FloatVector.broadcast(F, qkv[q2 + d]);
            a20 = k0.fma(q, a20);
            a21 = k1.fma(q, a21);
            a22 = k2.fma(q, a22);
            q = FloatVector.broadcast(F, qkv[q3 + d]);
            a30 = k0.fma(q, a30);
            a31 = k1.fma(q, a31);
            a32 = k2.fma(q, a32);
        }
        a00.intoArray(s, at);
        a01.intoArray(s, at + L);
        a02.intoArray(s, at + 2 * L);
        a10.intoArray(s, at + stride);
        a11.intoArray(s, at + stride + L);
        a12.intoArray(s, at + stride + 2 * L);
        a20.intoArray(s, at + 2 * stride);
        a21.intoArray(s, at + 2 * stride + L);
        a22.intoArray(s, at + 2 * stride + 2 * L);
        a30.intoArray(s, at + 3 * stride);
        a31.intoArray(s, at + 3 * stride + L);
        a32.intoArray(s, at + 3 * stride + 2 * L);
    }

    /** Scores of one query against key blocks {@code from .. to-1}: the same chains as {@link #scores4x3}. */
    private void scores1(float[] panel, int gOff, int from, int to, float[] qkv, int q, float[] s, int sOff) {
        for (int b = from; b < to; b++) {
            int base = (b * kvDim + gOff) * L;
            FloatVector a = FloatVector.zero(F);
            for (int d = 0; d < headDim; d++) {
                a = FloatVector.fromArray(F, panel, base + d * L).fma(FloatVector.broadcast(F, qkv[q + d]), a);
            }
            a.intoArray(s, sOff + b * L);
        }
    }

    /** Replaces {@code s[off .. off+keys)} by {@code exp(s - max)} (zero beyond, to the vector end); returns their sum. */
    private static float softmax(float[] s, int off, int keys) {
        int full = keys / L * L;
        FloatVector negInf = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector zero = FloatVector.zero(F);
        FloatVector mx = negInf;
        for (int i = 0; i < full; i += L) {
            mx = mx.max(FloatVector.fromArray(F, s, off + i));
        }
        VectorMask<Float> tail = F.indexInRange(full, keys);
        if (full < keys) {
            mx = mx.max(negInf.blend(FloatVector.fromArray(F, s, off + full), tail));
        }
        FloatVector max = FloatVector.broadcast(F, mx.reduceLanes(VectorOperators.MAX));
        FloatVector sum = zero;
        for (int i = 0; i < full; i += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, s, off + i).sub(max));
            e.intoArray(s, off + i);
            sum = sum.add(e);
        }
        if (full < keys) {
            FloatVector e = zero.blend(VectorMath.exp(FloatVector.fromArray(F, s, off + full).sub(max)), tail);
            e.intoArray(s, off + full);
            sum = sum.add(e);
        }
        return VectorMath.sumLanes(sum);
    }

    /**
     * {@code out = inv * sum_j p[j] v[j]} for every row. Groups of 4 rows share V loads over the keys all
     * four see (in chunks, partial sums kept in the output rows); each row then finishes alone.
     *
     * @param vBase index of this KV head's first value row
     */
    private void values(float[] v, int vBase, float[] qkv, Rows rows, float[] p, int stride, float[] out) {
        int full = rows.size / 4 * 4;
        int maxCommon = 0;
        for (int i = 0; i < full; i += 4) {
            maxCommon = Math.max(maxCommon, common(rows, i));
        }
        for (int slice = 0; slice < headDim; ) {
            int width = slice + 2 * L <= headDim ? 2 : 1;
            for (int j0 = 0; j0 < maxCommon; j0 += KEY_CHUNK) {
                for (int i = 0; i < full; i += 4) {
                    int end = Math.min(j0 + KEY_CHUNK, common(rows, i));
                    if (j0 < end) {
                        values4(v, vBase + slice, width, j0, end, p, i * stride, stride, out, rows, i, slice);
                    }
                }
            }
            for (int w = 0; w < width; w++) {
                int vOff = vBase + slice + w * L;
                for (int i = 0; i < rows.size; i++) {
                    int o = rows.out[i] + slice + w * L;
                    int from = i < full ? common(rows, i / 4 * 4) : 0;
                    FloatVector acc = from == 0 ? FloatVector.zero(F) : FloatVector.fromArray(F, out, o);
                    values1(v, vOff, from, rows.keys[i], p, i * stride, acc, rows.inv[i], out, o);
                }
            }
            slice += width * L;
        }
    }

    private static int common(Rows rows, int first) {
        return Math.min(Math.min(rows.keys[first], rows.keys[first + 1]), Math.min(rows.keys[first + 2], rows.keys[first + 3]));
    }

    /**
     * Continues the partial sums of rows {@code i .. i+3} over keys {@code from .. to-1} for {@code width}
     * (1 or 2) output vectors at {@code slice}; starts from zero when {@code from} is 0.
     */
    private void values4(float[] v, int vOff, int width, int from, int to, float[] p, int p0, int stride, float[] out,
                         Rows rows, int i, int slice) {
        int o0 = rows.out[i] + slice, o1 = rows.out[i + 1] + slice, o2 = rows.out[i + 2] + slice, o3 = rows.out[i + 3] + slice;
        int p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride;
        boolean fresh = from == 0;
        FloatVector a00 = load(out, o0, fresh), a10 = load(out, o1, fresh), a20 = load(out, o2, fresh), a30 = load(out, o3, fresh);
        if (width == 2) {
            FloatVector a01 = load(out, o0 + L, fresh), a11 = load(out, o1 + L, fresh);
            FloatVector a21 = load(out, o2 + L, fresh), a31 = load(out, o3 + L, fresh);
            for (int j = from, vi = vOff + from * headDim; j < to; j++, vi += headDim) {
                FloatVector v0 = FloatVector.fromArray(F, v, vi);
                FloatVector v1 = FloatVector.fromArray(F, v, vi + L);
                FloatVector b = FloatVector.broadcast(F, p[p0 + j]);
                a00 = v0.fma(b, a00);
                a01 = v1.fma(b, a01);
                b = FloatVector.broadcast(F, p[p1 + j]);
                a10 = v0.fma(b, a10);
                a11 = v1.fma(b, a11);
                b = FloatVector.broadcast(F, p[p2 + j]);
                a20 = v0.fma(b, a20);
                a21 = v1.fma(b, a21);
                b = FloatVector.broadcast(F, p[p3 + j]);
                a30 = v0.fma(b, a30);
                a31 = v1.fma(b, a31);
            }
            a01.intoArray(out, o0 + L);
            a11.intoArray(out, o1 + L);
            a21.intoArray(out, o2 + L);
            a31.intoArray(out, o3 + L);
        } else {
            for (int j = from, vi = vOff + from * headDim; j < to; j++, vi += headDim) {
                FloatVector v0 = FloatVector.fromArray(F, v, vi);
                a00 = v0.fma(FloatVector.broadcast(F, p[p0 + j]), a00);
                a10 = v0.fma(FloatVector.broadcast(F, p[p1 + j]), a10);
                a20 = v0.fma(FloatVector.broadcast(F, p[p2 + j]), a20);
                a30 = v0.fma(FloatVector.broadcast(F, p[p3 + j]), a30);
            }
        }
        a00.intoArray(out, o0);
        a10.intoArray(out, o1);
        a20.intoArray(out, o2);
        a30.intoArray(out, o3);
    }

    private static FloatVector load(float[] out, int at, boolean zero) {
        return zero ? FloatVector.zero(F) : FloatVector.fromArray(F, out, at);
    }

    /** Continues {@code acc} over keys {@code from .. to-1} of one row and one output vector, scales by {@code inv}, stores. */
    private void values1(float[] v, int vOff, int from, int to, float[] p, int pOff, FloatVector acc, float inv,
                         float[] out, int o) {
        for (int j = from, vi = vOff + from * headDim; j < to; j++, vi += headDim) {
            acc = FloatVector.fromArray(F, v, vi).fma(FloatVector.broadcast(F, p[pOff + j]), acc);
        }
        acc.mul(inv).intoArray(out, o);
    }
}
