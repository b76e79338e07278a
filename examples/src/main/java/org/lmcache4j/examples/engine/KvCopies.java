package org.lmcache4j.examples.engine;

/**
 * Attention's per-sequence copies of K and V (see {@link Sequence}) for up to {@code capacity} positions.
 * The engine keeps them between requests, as an engine keeps its KV memory: a request reuses a free set
 * that is large enough instead of allocating and zeroing a new one. Contents are never read before the
 * positions are written, so what a previous request left behind does not matter.
 */
final class KvCopies {

    final int capacity;
    final float[][] keyPanels;
    final float[][] valueRows;

    KvCopies(int layers, int kvDim, int capacity) {
        this.capacity = capacity;
        this.keyPanels = new float[layers][Math.ceilDiv(capacity, VectorMath.L) * VectorMath.L * kvDim];
        this.valueRows = new float[layers][capacity * kvDim];
    }
}
