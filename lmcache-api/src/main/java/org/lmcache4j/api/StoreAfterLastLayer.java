package org.lmcache4j.api;

/**
 * {@link KvConnector#storeLayerwise}'s default: counts the layers the engine announces and, after the last,
 * stores everything on the caller's thread.
 */
final class StoreAfterLastLayer implements LayerwiseStorage {

    private final KvConnector connector;
    private final int[] tokens;
    private final boolean[] mask;
    private final EngineKvMemory kv;
    private final int[] slots;
    private final int numLayers;
    private int nextLayer;
    private Integer stored;
    private boolean closed;

    StoreAfterLastLayer(KvConnector connector, int[] tokens, boolean[] mask, EngineKvMemory kv, int[] slots) {
        this.connector = connector;
        this.tokens = tokens == null ? null : tokens.clone();
        this.mask = mask == null ? null : mask.clone();
        this.kv = kv;
        this.slots = slots == null ? null : slots.clone();
        this.numLayers = connector.layout().numLayers();
    }

    @Override
    public synchronized void layerDone(int layer) {
        if (closed) {
            throw new IllegalStateException("layerwise store closed (expected: layerDone before close())");
        }
        if (layer != nextLayer) {
            throw new IllegalArgumentException("layer: " + layer + " (expected: " + nextLayer + ", the next layer"
                    + (nextLayer == numLayers ? "; all " + numLayers + " are done" : "") + ")");
        }
        nextLayer++;
        if (nextLayer == numLayers) {
            stored = connector.store(tokens, mask, kv, slots);
        }
    }

    @Override
    public synchronized int join() {
        if (stored == null) {
            throw new IllegalStateException("layerwise store: " + nextLayer + " of " + numLayers + " layers done"
                    + (closed ? " and closed" : "") + " (expected: every layer done before join())");
        }
        return stored;
    }

    @Override
    public synchronized void close() {
        closed = true;
    }
}
